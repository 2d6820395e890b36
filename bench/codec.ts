/**
 * Micro-benchmarks of the two hot codecs on one generated month of 1m (44,640 rows):
 * parseVisionCsvColumns on the unzipped CSV text, validateKlineColumns, and encodeKlineColumns /
 * decodeKlines (Parquet).
 * Each runs `warmups` untimed passes (JIT), then `runs` timed passes; the figure is the
 * rows of the timed passes over their total time.
 */
import { inflateRawSync } from 'node:zlib';
import { unzipSync } from 'fflate';
import { rowsFromColumns, validateKlineColumns } from '../lib/domain/kline-columns.ts';
import { parseVisionCsvColumns } from '../lib/sources/vision-csv.ts';
import { decodeKlines, encodeKlineColumns } from '../lib/store/parquet-codec.ts';
import type { GeneratedFile } from './generate.ts';
import { rowsPerSecond, settle } from './measure.ts';

/** One codec figure: rows/s over `runs` timed passes of `rows` rows. */
export interface CodecFigure {
  readonly rowsPerSecond: number;
  readonly rows: number;
  readonly runs: number;
  readonly totalMs: number;
}

/** All codec figures, plus the Parquet size per row and the unzip speed for context. */
export interface CodecResults {
  readonly csvParse: CodecFigure;
  readonly validate: CodecFigure;
  readonly unzip: CodecFigure & { readonly csvMbPerSecond: number };
  /** The same member inflated by node:zlib (native), for comparison with fflate. */
  readonly nativeInflate: CodecFigure;
  readonly parquetEncode: CodecFigure & { readonly bytesPerRow: number };
  readonly parquetDecode: CodecFigure;
  /** Tagging decoded rows with their source as klines-service.ts does (`{ ...row, source }`), and with an explicit literal. */
  readonly tagSpread: CodecFigure;
  readonly tagLiteral: CodecFigure;
}

async function repeat(rows: number, runs: number, warmups: number, body: () => unknown): Promise<CodecFigure> {
  for (let i = 0; i < warmups; i++) await body();
  await settle();
  const startedMs = performance.now();
  for (let i = 0; i < runs; i++) await body();
  const totalMs = performance.now() - startedMs;
  return { rowsPerSecond: rowsPerSecond(rows * runs, totalMs), rows, runs, totalMs };
}

/** Measures the codecs on `file` (a generated monthly 1m file). */
export async function benchCodecs(file: GeneratedFile, runs = 10, warmups = 3): Promise<CodecResults> {
  const member = (): Uint8Array => Object.values(unzipSync(file.zip))[0]!;
  const unzip = await repeat(file.rows, runs, warmups, member);
  const zip = Buffer.from(file.zip.buffer, file.zip.byteOffset, file.zip.length);
  // Local file header (PKZIP APPNOTE 4.3.7): compressed size at 18, name and extra lengths at 26, 28.
  const dataStart = 30 + zip.readUInt16LE(26) + zip.readUInt16LE(28);
  const deflated = zip.subarray(dataStart, dataStart + zip.readUInt32LE(18));
  const nativeInflate = await repeat(file.rows, runs, warmups, () => inflateRawSync(deflated));
  const bytes = member();
  if (!inflateRawSync(deflated).equals(bytes)) throw new Error('bench: node:zlib and fflate disagree on the CSV');
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
  const csvParse = await repeat(file.rows, runs, warmups, () => parseVisionCsvColumns(text, file.name));
  const columns = parseVisionCsvColumns(text, file.name);
  const rows = rowsFromColumns(columns);
  const validate = await repeat(file.rows, runs, warmups, () => validateKlineColumns(columns, file.name));
  const parquet = encodeKlineColumns(columns);
  const parquetEncode = await repeat(file.rows, runs, warmups, () => encodeKlineColumns(columns));
  const parquetDecode = await repeat(file.rows, runs, warmups, () => decodeKlines(parquet));
  const decoded = await decodeKlines(parquet);
  if (decoded.length !== rows.length || decoded.at(-1)?.quote_volume !== rows.at(-1)?.quote_volume) {
    throw new Error('bench: Parquet round trip changed the rows');
  }
  const tagSpread = await repeat(file.rows, runs, warmups, () => decoded.map((row) => ({ ...row, source: 'cache' as const })));
  const tagLiteral = await repeat(file.rows, runs, warmups, () => decoded.map((r) => ({
    open_time: r.open_time, open: r.open, high: r.high, low: r.low, close: r.close, volume: r.volume, close_time: r.close_time,
    quote_volume: r.quote_volume, trades: r.trades, taker_buy_volume: r.taker_buy_volume, taker_buy_quote_volume: r.taker_buy_quote_volume, source: 'cache' as const,
  })));
  return {
    tagSpread,
    tagLiteral,
    csvParse,
    validate,
    nativeInflate,
    unzip: { ...unzip, csvMbPerSecond: (file.csvBytes * runs) / 1e6 / (unzip.totalMs / 1000) },
    parquetEncode: { ...parquetEncode, bytesPerRow: parquet.byteLength / rows.length },
    parquetDecode,
  };
}
