/**
 * Ingest benchmarks.
 * - `benchIngestPipeline`: the Vision file pipeline in-process, one file after another, the way
 *   vision-client.ts and the service run it: sha256 check against the CHECKSUM, unzip
 *   (readSingleCsvMember: yauzl + native inflateRawSync, bytes), parseVisionCsvBytes,
 *   validateKlineColumns, then KlineCache.appendColumns (Parquet encode from the columns, atomic
 *   file write, coverage index update under its lock) into a fresh local cache.
 * - `benchServiceCold`: one cold `service.getKlines` through HTTP from the bench Vision server
 *   (download, checksum, unzip, parse, validate, append, compaction, merged answer).
 */
import { createHash } from 'node:crypto';
import type { Dataset } from '../lib/domain/kline.ts';
import { validateKlineColumns } from '../lib/domain/kline-columns.ts';
import type { Range } from '../lib/domain/ranges.ts';
import type { KlinesService, KlinesStats } from '../lib/service/klines-service.ts';
import { parseVisionCsvBytes } from '../lib/sources/vision-csv.ts';
import { readSingleCsvMember } from '../lib/sources/zip-member.ts';
import { createFsCoverageIndex } from '../lib/store/fs-coverage-index.ts';
import { createFsObjectStore } from '../lib/store/fs-object-store.ts';
import { createKlineCache } from '../lib/store/kline-cache.ts';
import type { GeneratedFile } from './generate.ts';
import { rowsPerSecond, settle, timed } from './measure.ts';

/** Stages of the pipeline, in the order they run. */
export const INGEST_STAGES = ['checksum', 'unzip', 'parse', 'validate', 'appendColumns'] as const;
export type IngestStage = (typeof INGEST_STAGES)[number];

/** Result of the in-process pipeline: total rows, wall time, rows/s, and ms spent per stage. */
export interface IngestResult {
  readonly files: number;
  readonly rows: number;
  readonly zipBytes: number;
  readonly elapsedMs: number;
  readonly rowsPerSecond: number;
  readonly stageMs: Record<IngestStage, number>;
  /** Compaction of the ingested periods afterwards (not part of the ingest figure). */
  readonly compactMs: number;
}

/** Runs the pipeline over `files` into a fresh cache at `cacheDir`. */
export async function benchIngestPipeline(files: readonly GeneratedFile[], cacheDir: string): Promise<IngestResult> {
  const cache = createKlineCache({ store: createFsObjectStore(cacheDir), index: createFsCoverageIndex(cacheDir) });
  const stageMs = Object.fromEntries(INGEST_STAGES.map((stage) => [stage, 0])) as Record<IngestStage, number>;
  const stage = async <T>(name: IngestStage, body: () => T | Promise<T>): Promise<T> => {
    const { value, elapsedMs } = await timed(body);
    stageMs[name] += elapsedMs;
    return value;
  };
  await settle();
  let rows = 0;
  const startedMs = performance.now();
  for (const file of files) {
    const expected = file.checksum.split(' ')[0];
    await stage('checksum', () => {
      if (createHash('sha256').update(file.zip).digest('hex') !== expected) throw new Error(`bench: ${file.name} fails its CHECKSUM`);
    });
    const zip = Buffer.from(file.zip.buffer, file.zip.byteOffset, file.zip.length);
    const text = await stage('unzip', () => readSingleCsvMember(zip, file.name));
    const klines = await stage('parse', () => parseVisionCsvBytes(text, file.name));
    await stage('validate', () => validateKlineColumns(klines, file.name));
    await stage('appendColumns', () => cache.appendColumns(file.dataset, klines, [{ startMs: file.startMs, endMs: file.endMs }], ['vision']));
    rows += klines.length;
  }
  const elapsedMs = performance.now() - startedMs;
  const compact = await timed(async () => {
    for (const file of files) {
      const period = { granularity: 'monthly' as const, key: new Date(file.startMs).toISOString().slice(0, 7), range: { startMs: file.startMs, endMs: file.endMs } };
      await cache.compact(file.dataset, [period], Number.MAX_SAFE_INTEGER);
    }
  });
  return {
    files: files.length, rows, zipBytes: files.reduce((sum, file) => sum + file.zip.length, 0),
    elapsedMs, rowsPerSecond: rowsPerSecond(rows, elapsedMs), stageMs, compactMs: compact.elapsedMs,
  };
}

/** Result of one cold service request. */
export interface ServiceColdResult {
  readonly rows: number;
  readonly elapsedMs: number;
  readonly rowsPerSecond: number;
  readonly stats: KlinesStats;
}

/** One `getKlines` of `range` on a service whose cache is empty; checks the answer has `expectedRows`. */
export async function benchServiceCold(service: KlinesService, dataset: Dataset, range: Range, expectedRows: number): Promise<ServiceColdResult> {
  await settle();
  const { value: answer, elapsedMs } = await timed(() => service.getKlines({ dataset, range }));
  if (answer.columns.length !== expectedRows) throw new Error(`bench: cold getKlines returned ${answer.columns.length} rows, expected ${expectedRows}`);
  if (answer.stats.restRequests !== 0 || answer.stats.rowsFromCache !== 0) {
    throw new Error(`bench: cold getKlines was not a pure Vision fill: ${JSON.stringify(answer.stats)}`);
  }
  return { rows: answer.columns.length, elapsedMs, rowsPerSecond: rowsPerSecond(answer.columns.length, elapsedMs), stats: answer.stats };
}
