/**
 * Bytes per row of the cache's Parquet files against Binance Vision's zips of the same rows, on
 * the real recordings (test/fixtures/binance, SOURCES.md). Self-contained: run with
 * `npm run -s bench:parquet-size`; prints a Markdown table on stdout.
 *
 * - Real zips (`vision/`): the zip's own bytes. Our file holds the same rows.
 * - Real CSVs (`csv/`, committed unzipped): zipped as Vision does (one deflated member, level 6,
 *   by yazl on node:zlib). Calibration: re-zipping the CSVs of the real zips this way gives
 *   0.97-0.98x of the real zips' bytes (printed), so the ratio against such zips is, if anything,
 *   harsh on us.
 * - A cache file holds a period: a month for 1m and 1h. A real 1m month is not in the
 *   recordings, so the 1m rows are the days there are: each day as its own file, and the days of
 *   one month together (the month's cache file as far as the recordings go).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { unzipSync } from 'fflate';
import { ZipFile } from 'yazl';
import { concatColumns, type KlineColumns } from '../lib/domain/kline-columns.ts';
import { parseVisionCsvBytes } from '../lib/sources/vision-csv.ts';
import { encodeKlineColumns } from '../lib/store/parquet-codec.ts';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../test/fixtures/binance');

/** One Vision file's rows and the bytes of its zip. */
interface VisionFile {
  readonly label: string;
  readonly columns: KlineColumns;
  readonly zipBytes: number;
  /** Our Vision-style re-zip of the same CSV (calibration for the real zips). */
  readonly rezipBytes: number;
}

/** A zip of one deflated member, as Vision's Info-ZIP archives are (yazl, node:zlib deflate level 6). */
function zipOne(name: string, bytes: Uint8Array): Promise<number> {
  const zip = new ZipFile();
  zip.addBuffer(Buffer.from(bytes), name, { mtime: new Date(Date.UTC(2022, 0, 1)), compress: true });
  zip.end();
  return new Promise((resolve, reject) => {
    let size = 0;
    zip.outputStream.on('data', (chunk: Buffer) => { size += chunk.byteLength; });
    zip.outputStream.on('end', () => resolve(size));
    zip.outputStream.on('error', reject);
  });
}

async function loadZip(relative: string): Promise<VisionFile> {
  const zip = readFileSync(path.join(fixtures, 'vision/data', relative));
  const [name, csv] = Object.entries(unzipSync(zip))[0]!;
  return { label: `vision/${relative}`, columns: parseVisionCsvBytes(csv, name), zipBytes: zip.byteLength, rezipBytes: await zipOne(name, csv) };
}

async function loadCsv(relative: string): Promise<VisionFile> {
  const csv = readFileSync(path.join(fixtures, 'csv', relative));
  const rezip = await zipOne(path.basename(relative), csv);
  return { label: `csv/${relative} (zipped as Vision does)`, columns: parseVisionCsvBytes(csv, relative), zipBytes: rezip, rezipBytes: rezip };
}

/** One table row: our bytes/row, the zip's bytes/row, the ratio. */
function line(label: string, files: readonly VisionFile[]): { text: string; ratio: number } {
  const columns = concatColumns(files.map((file) => file.columns));
  const ours = encodeKlineColumns(columns).byteLength;
  const zip = files.reduce((sum, file) => sum + file.zipBytes, 0);
  const rows = columns.length;
  const ratio = ours / zip;
  return { text: `| ${label} | ${rows} | ${(ours / rows).toFixed(1)} | ${(zip / rows).toFixed(1)} | **${ratio.toFixed(2)}** |`, ratio };
}

const um = ['2022-09-05', '2022-09-06'].map((day) => `futures/um/daily/klines/BTCUSDT/1m/BTCUSDT-1m-${day}.zip`);
const cm = ['2022-10-24', '2022-10-25'].map((day) => `futures/cm/daily/klines/BTCUSD_PERP/1m/BTCUSD_PERP-1m-${day}.zip`);
const um1mCsv = ['2022-04-08', '2022-05-04', '2022-05-05', '2022-05-06', '2023-04-15'].map((day) => `futures/um/daily/klines/BTCUSDT/1m/BTCUSDT-1m-${day}.csv`);
const spot1mCsv = 'spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2025-07-13.csv';
const spot1hDir = 'spot/monthly/klines/BTCUSDT/1h';

const umZips = await Promise.all(um.map(loadZip));
const cmZips = await Promise.all(cm.map(loadZip));
const umCsvs = await Promise.all(um1mCsv.map(loadCsv));
const spot1m = await loadCsv(spot1mCsv);
const hourly = await Promise.all(readdirSync(path.join(fixtures, 'csv', spot1hDir)).sort().map((name) => loadCsv(`${spot1hDir}/${name}`)));

const out: string[] = ['| rows | n | ours B/row | zip B/row | ours / zip |', '|---|---:|---:|---:|---:|'];
const ratios1m: number[] = [];
for (const file of [...umZips, ...cmZips, ...umCsvs, spot1m]) {
  const row = line(file.label, [file]);
  ratios1m.push(row.ratio);
  out.push(row.text);
}
out.push(line('um BTCUSDT 1m 2022-09 cache file (the two real zips\' days)', umZips).text);
out.push(line('cm BTCUSD_PERP 1m 2022-10 cache file (the two real zips\' days)', cmZips).text);
out.push(line('um BTCUSDT 1m 2022-05 cache file (three days)', umCsvs.slice(1, 4)).text);
const ratios1h: number[] = [];
for (const file of hourly) {
  const row = line(file.label, [file]);
  ratios1h.push(row.ratio);
  out.push(row.text);
}
const summary = (ratios: readonly number[]): string => {
  const sorted = [...ratios].sort((a, b) => a - b);
  return `min ${sorted[0]!.toFixed(2)}, median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(2)}, max ${sorted.at(-1)!.toFixed(2)} (${sorted.length} files)`;
};
console.log(out.join('\n'));
console.log(`\n1m single files, ours / zip: ${summary(ratios1m)}`);
console.log(`1h monthly files, ours / zip: ${summary(ratios1h)}`);
for (const file of [...umZips, ...cmZips]) {
  console.log(`calibration: ${file.label}: our Vision-style re-zip ${file.rezipBytes} B / real zip ${file.zipBytes} B = ${(file.rezipBytes / file.zipBytes).toFixed(3)}`);
}
