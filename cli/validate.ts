/**
 * `klines validate [--dataset ID] [--json]`: checks every indexed object of the cache (issue 3,
 * item 7; the seed docs' validate_cache_integrity) and prints the problems and orphans.
 * Works on any store and index (fs, S3, DynamoDB): the caller builds them.
 */
import type { IntegrityReport } from '../lib/service/integrity.ts';
import { validateCache } from '../lib/service/integrity.ts';
import type { CacheStatsStore, CoverageIndex, ObjectStore } from '../lib/store/types.ts';

/** Where a command writes text (process.stdout, process.stderr, or a test's collector). */
export interface TextOutput {
  write(text: string): unknown;
  readonly isTTY?: boolean | undefined;
}

/** The cache a maintenance command works on, already built from the configuration. */
export interface CacheCommandHandles {
  readonly store: ObjectStore;
  readonly index: CoverageIndex;
  readonly stats: CacheStatsStore;
}

/** Options of `klines validate`. */
export interface ValidateCommandOptions extends CacheCommandHandles {
  readonly stdout: TextOutput;
  readonly stderr: TextOutput;
  /** Only this dataset (`binance/spot/klines/BTCUSDT/1m`). */
  readonly datasetId?: string | undefined;
  /** Print the IntegrityReport as one JSON document instead of text. */
  readonly json?: boolean | undefined;
}

/**
 * Runs the validation and prints the report. Returns 0 when no problem was found (orphans are
 * reported but are not problems: no reader depends on them), 1 otherwise. Throws StoreError
 * when the cache cannot be read, InvalidInputError for a malformed dataset id.
 */
export async function runValidate(options: ValidateCommandOptions): Promise<number> {
  const report = await validateCache(options, {
    datasetId: options.datasetId,
    onProgress: options.stderr.isTTY ? (done, total) => options.stderr.write(`\rchecked ${done}/${total} periods`) : undefined,
  });
  if (options.stderr.isTTY && report.records > 0) options.stderr.write('\n');
  options.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  return report.problems.length === 0 ? 0 : 1;
}

/** The report as text: counts, then each problem and orphan. */
export function formatReport(report: IntegrityReport): string {
  const lines = [`checked ${report.records} periods, ${report.objects} objects, ${report.rowsChecked} rows`];
  if (report.problems.length === 0) {
    lines.push('no problems: every indexed object is present, intact and consistent with its coverage');
  } else {
    const periods = new Set(report.problems.map((p) => `${p.datasetId} ${p.period}`));
    lines.push(`${report.problems.length} problem(s) in ${periods.size} period(s) (run \`klines repair\` to drop and re-fetch them):`);
    for (const p of report.problems) lines.push(`  ${p.datasetId} ${p.period} [${p.kind}]${p.key ? ` ${p.key}` : ''}: ${p.problem}`);
  }
  if (report.orphans.length > 0) {
    lines.push(`${report.orphans.length} orphan object(s), named by no record (\`klines repair --orphans\` deletes those past the grace period):`);
    for (const o of report.orphans) lines.push(`  ${o.key}${o.ageMs === undefined ? ' (age unknown)' : ` (age ${formatAge(o.ageMs)})`}`);
  }
  return `${lines.join('\n')}\n`;
}

/** `2 h 5 min`, `3 min 10 s`, `12 s`. */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s >= 3600) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  if (s >= 60) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${s} s`;
}
