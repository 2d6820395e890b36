/**
 * The checks `klines validate` runs on one coverage record and the objects it names (issue 3,
 * item 7; the seed docs' validate_cache_integrity): the record's own shape, then each object's
 * presence, sha256 and size, Parquet schema, row count, order, duplicates, and that every row
 * lies inside the period and inside the covered ranges.
 */
import { validateFundingColumns } from '../domain/funding-rate.ts';
import { validateKlines, type Kline } from '../domain/kline.ts';
import type { Period } from '../domain/periods.ts';
import { normalizeRanges, type Range } from '../domain/ranges.ts';
import { decodeFundingColumns } from '../store/funding-codec.ts';
import { decodeKlines } from '../store/parquet-codec.ts';
import { sha256Hex } from '../domain/sha256.ts';
import { crc32Of } from '../store/object-verify.ts';
import type { ObjectRef, ObjectStore, PeriodRecord } from '../store/types.ts';
import { canonicalKeyOfId, datasetIdPrefix, parseFundingDatasetId, parsePeriodKey } from './cache-layout.ts';

/** What is wrong, in a word; `problem` gives the details. */
export type ProblemKind =
  | 'bad-record' | 'missing' | 'checksum' | 'unreadable' | 'row-count'
  | 'order' | 'duplicate' | 'invalid-row' | 'outside-period' | 'outside-coverage';

/** One problem found in a dataset period: in the record itself (no `key`) or in one of its objects. */
export interface IntegrityProblem {
  readonly datasetId: string;
  readonly period: string;
  readonly key?: string | undefined;
  readonly kind: ProblemKind;
  /** Human-readable: what was expected and what was found. */
  readonly problem: string;
  /** Version of the record the problem was found in. */
  readonly version: number;
}

/** The outcome of checking one record. */
export interface RecordCheck {
  readonly problems: IntegrityProblem[];
  /** Objects read. */
  readonly objects: number;
  /** Rows decoded and checked. */
  readonly rows: number;
}

/** Checks `record` and every object it names. Never throws for bad data; store failures propagate. */
export async function checkRecord(store: ObjectStore, record: PeriodRecord): Promise<RecordCheck> {
  const problems: IntegrityProblem[] = [];
  const report = (kind: ProblemKind, problem: string, key?: string): void => {
    problems.push({ datasetId: record.datasetId, period: record.period, key, kind, problem, version: record.version });
  };
  const period = checkRecordShape(record, report);
  const refs = record.canonical ? [record.canonical, ...record.parts] : [...record.parts];
  let rows = 0;
  const funding = parseFundingDatasetId(record.datasetId) !== undefined;
  for (const ref of refs) {
    const result = await checkObject(store, ref, period, record.covered, funding);
    rows += result.rows;
    for (const found of result.problems) report(found.kind, found.problem, ref.key);
  }
  return { problems, objects: refs.length, rows };
}

type Report = (kind: ProblemKind, problem: string, key?: string) => void;

/** The record's dataset id, period key, covered ranges and object keys; returns its period when valid. */
function checkRecordShape(record: PeriodRecord, report: Report): Period | undefined {
  let prefix: string | undefined;
  let canonical: string | undefined;
  const period = parsePeriodKey(record.period, record.granularity);
  try {
    prefix = `${datasetIdPrefix(record.datasetId)}${record.period}.parts/`;
    if (period) canonical = canonicalKeyOfId(record.datasetId, period.key);
  } catch (error) {
    report('bad-record', error instanceof Error ? error.message : String(error));
  }
  if (!period) report('bad-record', `period ${JSON.stringify(record.period)} is not a ${record.granularity} period key`);
  const normalized = normalizeRanges(record.covered);
  if (normalized.length !== record.covered.length || normalized.some((r, i) => r.startMs !== record.covered[i]!.startMs || r.endMs !== record.covered[i]!.endMs)) {
    report('bad-record', 'covered ranges are not normalized (sorted, non-overlapping, non-adjacent)');
  }
  if (period && record.covered.some((r) => r.startMs < period.range.startMs || r.endMs > period.range.endMs)) {
    report('bad-record', `covered ranges extend outside the period ${record.period}`);
  }
  if (canonical && record.canonical && record.canonical.key !== canonical) {
    report('bad-record', `canonical file is not at the period's canonical key ${canonical}`, record.canonical.key);
  }
  const seen = new Set<string>();
  for (const part of record.parts) {
    if (prefix && !part.key.startsWith(prefix)) report('bad-record', `part is not under ${prefix}`, part.key);
    if (seen.has(part.key)) report('bad-record', 'part is listed twice', part.key);
    seen.add(part.key);
  }
  return period;
}

interface ObjectCheck {
  rows: number;
  problems: { kind: ProblemKind; problem: string }[];
}

/**
 * An object unlike its ref (size, sha256, CRC-32) is damage, canonical files included: readers
 * verify every object and never serve one that differs (lib/store/object-verify.ts), and a
 * compaction only replaces a canonical file it verified, committing the new ref right after.
 */
async function checkObject(store: ObjectStore, ref: ObjectRef, period: Period | undefined, covered: readonly Range[], funding: boolean): Promise<ObjectCheck> {
  const body = await store.get(ref.key);
  if (!body) return { rows: 0, problems: [{ kind: 'missing', problem: 'object does not exist' }] };
  const sha256 = sha256Hex(body);
  const crc32 = crc32Of(body);
  if (sha256 !== ref.sha256 || body.byteLength !== ref.sizeBytes || (ref.crc32 !== undefined && crc32 !== ref.crc32)) {
    const recorded = `${ref.sizeBytes} bytes with sha256 ${ref.sha256}${ref.crc32 === undefined ? '' : ` and CRC-32 ${ref.crc32}`}`;
    return { rows: 0, problems: [{ kind: 'checksum', problem: `object is ${body.byteLength} bytes with sha256 ${sha256} and CRC-32 ${crc32}, the index recorded ${recorded}` }] };
  }
  let rows: Kline[];
  let fundingProblem: string | undefined;
  try {
    if (funding) {
      // Funding events (funding-rate.ts): checked by calc_time, which stands in for open_time below.
      const columns = await decodeFundingColumns(body);
      try {
        validateFundingColumns(columns, 'row check');
      } catch (error) {
        fundingProblem = error instanceof Error ? error.message : String(error);
      }
      rows = [...columns.calc_time].map((time) => ({ open_time: time }) as Kline);
    } else {
      rows = await decodeKlines(body);
    }
  } catch (error) {
    return { rows: 0, problems: [{ kind: 'unreadable', problem: `not a ${funding ? 'funding-rate' : 'kline'} Parquet file: ${error instanceof Error ? error.message : String(error)}` }] };
  }
  const problems = checkRows(rows, period, covered, !funding);
  if (fundingProblem) problems.push({ kind: 'invalid-row', problem: fundingProblem });
  if (rows.length !== ref.rows) problems.unshift({ kind: 'row-count', problem: `object holds ${rows.length} rows, the index recorded ${ref.rows}` });
  return { rows: rows.length, problems };
}

/** Order, duplicates, values (validateKlines), and rows outside the period or the covered ranges. */
function checkRows(rows: readonly Kline[], period: Period | undefined, covered: readonly Range[], klineValues = true): { kind: ProblemKind; problem: string }[] {
  const problems: { kind: ProblemKind; problem: string }[] = [];
  const ranges = normalizeRanges(covered);
  let disorder = 0;
  let duplicates = 0;
  let outsidePeriod = 0;
  let outsideCoverage = 0;
  for (let i = 0; i < rows.length; i++) {
    const openTime = rows[i]!.open_time;
    const previous = i > 0 ? rows[i - 1]!.open_time : -Infinity;
    if (openTime === previous) duplicates++;
    else if (openTime < previous) disorder++;
    if (period && (openTime < period.range.startMs || openTime >= period.range.endMs)) outsidePeriod++;
    if (!ranges.some((r) => openTime >= r.startMs && openTime < r.endMs)) outsideCoverage++;
  }
  if (disorder > 0) problems.push({ kind: 'order', problem: `${disorder} row(s) are before the row above them (rows must be sorted by open_time)` });
  if (duplicates > 0) problems.push({ kind: 'duplicate', problem: `${duplicates} row(s) repeat the open_time of the row above them` });
  if (outsidePeriod > 0) problems.push({ kind: 'outside-period', problem: `${outsidePeriod} row(s) have an open_time outside the period` });
  if (outsideCoverage > 0) problems.push({ kind: 'outside-coverage', problem: `${outsideCoverage} row(s) have an open_time outside the covered ranges` });
  if (klineValues && disorder === 0 && duplicates === 0) {
    try {
      validateKlines(rows, 'row check');
    } catch (error) {
      problems.push({ kind: 'invalid-row', problem: error instanceof Error ? error.message : String(error) });
    }
  }
  return problems;
}
