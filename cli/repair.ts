/**
 * `klines repair [--dataset ID] [--orphans] [--grace-ms N] [--dry-run] [--json]`: validates the
 * cache, drops the coverage and objects of every bad period (so the next `klines get` fetches
 * it again, or `refetch` does it now), and with `--orphans` deletes orphans past the grace
 * period (issue 3, item 7; the seed docs' repair_cache).
 */
import { ORPHAN_GRACE_MS, repairCache, validateCache, type DroppedPeriod, type RepairResult } from '../lib/service/integrity.ts';
import { formatAge, formatReport, type CacheCommandHandles, type TextOutput } from './validate.ts';

/** Options of `klines repair`. */
export interface RepairCommandOptions extends CacheCommandHandles {
  readonly stdout: TextOutput;
  readonly stderr: TextOutput;
  readonly datasetId?: string | undefined;
  /** Also delete orphans older than `orphanGraceMs` (default 1 hour). */
  readonly orphans?: boolean | undefined;
  readonly orphanGraceMs?: number | undefined;
  /** Only print what would be done. */
  readonly dryRun?: boolean | undefined;
  readonly json?: boolean | undefined;
  /**
   * Fetches a dropped period again (e.g. `service.getKlines` over `range`, clamped to closed
   * candles). Without it the periods are fetched by the next request that needs them.
   */
  readonly refetch?: ((period: DroppedPeriod) => Promise<void>) | undefined;
}

/**
 * Runs validate → repair → refetch and prints what was done. Returns 0 when every bad period was
 * dropped (and re-fetched, when `refetch` is given), 1 when a re-fetch failed. Throws StoreError
 * when the cache cannot be read or written.
 */
export async function runRepair(options: RepairCommandOptions): Promise<number> {
  const report = await validateCache(options, { datasetId: options.datasetId });
  const graceMs = options.orphanGraceMs ?? ORPHAN_GRACE_MS;
  if (options.dryRun) {
    options.stdout.write(options.json ? `${JSON.stringify({ dryRun: true, report }, null, 2)}\n` : `dry run, nothing changed\n${formatReport(report)}`);
    return 0;
  }
  const result = await repairCache(options, report.problems, { orphans: options.orphans ? report.orphans : undefined, orphanGraceMs: graceMs });
  const refetched: string[] = [];
  const failed: { datasetId: string; period: string; error: string }[] = [];
  for (const period of options.refetch ? result.dropped : []) {
    try {
      await options.refetch!(period);
      refetched.push(`${period.datasetId} ${period.period}`);
    } catch (error) {
      failed.push({ datasetId: period.datasetId, period: period.period, error: error instanceof Error ? error.message : String(error) });
    }
  }
  if (options.json) {
    options.stdout.write(`${JSON.stringify({ report, result, refetched, refetchFailed: failed }, null, 2)}\n`);
  } else {
    options.stdout.write(formatRepair(result, report.orphans.length, options.orphans === true, options.refetch !== undefined, graceMs));
    for (const f of failed) options.stderr.write(`klines: re-fetching ${f.datasetId} ${f.period} failed: ${f.error}\n`);
  }
  return failed.length === 0 ? 0 : 1;
}

function formatRepair(result: RepairResult, orphanCount: number, orphansAsked: boolean, refetched: boolean, graceMs: number): string {
  const lines: string[] = [];
  if (result.dropped.length === 0 && result.skipped.length === 0) lines.push('no bad period');
  for (const d of result.dropped) {
    lines.push(`dropped ${d.datasetId} ${d.period} (coverage cleared, ${d.objectsDeleted.length} object(s) deleted)${refetched ? ', fetched again' : ', fetched again by the next request'}`);
  }
  for (const s of result.skipped) lines.push(`left ${s.datasetId} ${s.period}: ${s.reason}`);
  if (orphansAsked) {
    lines.push(`orphans: ${result.orphansDeleted.length} deleted, ${result.orphansKept.length} kept`);
    for (const key of result.orphansDeleted) lines.push(`  deleted ${key}`);
    for (const kept of result.orphansKept) lines.push(`  kept ${kept.key}: ${kept.reason}`);
  } else if (orphanCount > 0) {
    lines.push(`${orphanCount} orphan object(s) left; add --orphans to delete those older than ${formatAge(graceMs)}`);
  }
  return `${lines.join('\n')}\n`;
}
