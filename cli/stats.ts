/**
 * `klines stats [--dataset ID] [--json]`: the cache statistics kept per dataset (hits, misses,
 * errors, rows served, upstream requests and weight; issue 3, item 7; the seed docs'
 * get_cache_stats) and what the index holds (periods, objects, bytes, rows).
 */
import { COUNTER_NAMES, fillCounters } from '../lib/store/cache-counters.ts';
import type { CacheCounters } from '../lib/store/types.ts';
import type { CacheCommandHandles, TextOutput } from './validate.ts';

/** Options of `klines stats`. */
export interface StatsCommandOptions extends CacheCommandHandles {
  readonly stdout: TextOutput;
  readonly stderr: TextOutput;
  readonly datasetId?: string | undefined;
  readonly json?: boolean | undefined;
}

/** What the index holds for one dataset. `rows` sums the objects' row counts (parts may overlap, so it is an upper bound). */
export interface StoredSummary {
  periods: number;
  objects: number;
  sizeBytes: number;
  rows: number;
}

/** One dataset's line of `klines stats`. */
export interface DatasetStats {
  readonly datasetId: string;
  readonly counters: CacheCounters;
  /** hits / (hits + misses); undefined before any of them. */
  readonly hitRatio: number | undefined;
  readonly stored: StoredSummary;
}

/**
 * Reads the counters and scans the index, prints one block per dataset plus a total, and
 * returns 0. Throws StoreError when either cannot be read.
 */
export async function runStats(options: StatsCommandOptions): Promise<number> {
  const counters = await options.stats.read();
  const stored = new Map<string, StoredSummary>();
  for await (const record of options.index.scan()) {
    if (options.datasetId !== undefined && record.datasetId !== options.datasetId) continue;
    const summary = stored.get(record.datasetId) ?? { periods: 0, objects: 0, sizeBytes: 0, rows: 0 };
    const refs = record.canonical ? [record.canonical, ...record.parts] : record.parts;
    if (record.covered.length > 0) summary.periods++;
    summary.objects += refs.length;
    for (const ref of refs) {
      summary.sizeBytes += ref.sizeBytes;
      summary.rows += ref.rows;
    }
    stored.set(record.datasetId, summary);
  }
  const ids = [...new Set([...counters.keys(), ...stored.keys()])]
    .filter((id) => options.datasetId === undefined || id === options.datasetId)
    .sort();
  const datasets = ids.map((id) => toDatasetStats(id, counters.get(id) ?? fillCounters(), stored.get(id) ?? { periods: 0, objects: 0, sizeBytes: 0, rows: 0 }));
  const total = toDatasetStats('total', sumCounters(datasets.map((d) => d.counters)), {
    periods: sum(datasets, (d) => d.stored.periods), objects: sum(datasets, (d) => d.stored.objects),
    sizeBytes: sum(datasets, (d) => d.stored.sizeBytes), rows: sum(datasets, (d) => d.stored.rows),
  });
  options.stdout.write(options.json ? `${JSON.stringify({ datasets, total }, null, 2)}\n` : formatStats(datasets, total));
  return 0;
}

function toDatasetStats(datasetId: string, counters: CacheCounters, stored: StoredSummary): DatasetStats {
  const asked = counters.hits + counters.misses;
  return { datasetId, counters, hitRatio: asked === 0 ? undefined : counters.hits / asked, stored };
}

function sumCounters(list: readonly CacheCounters[]): CacheCounters {
  const out = fillCounters();
  for (const counters of list) for (const name of COUNTER_NAMES) out[name] += counters[name];
  return out;
}

function sum<T>(items: readonly T[], value: (item: T) => number): number {
  return items.reduce((total, item) => total + value(item), 0);
}

function formatStats(datasets: readonly DatasetStats[], total: DatasetStats): string {
  if (datasets.length === 0) return 'no statistics yet: no request has been answered and nothing is cached\n';
  const lines: string[] = [];
  for (const d of [...datasets, ...(datasets.length > 1 ? [total] : [])]) {
    const c = d.counters;
    const ratio = d.hitRatio === undefined ? 'n/a' : `${(d.hitRatio * 100).toFixed(1)}%`;
    lines.push(
      d.datasetId,
      `  requests ${c.requests}: ${c.hits} hits, ${c.misses} misses, ${c.errors} errors (hit ratio ${ratio})`,
      `  rows served ${c.rowsServed}, of which from the cache ${c.rowsFromCache}`,
      `  upstream: ${c.visionFiles} Vision files, ${c.restRequests} REST requests (weight ${c.restWeight})`,
      `  integrity: ${c.corruptObjects} objects failed verification on read (not served; period dropped and fetched again), ${c.cleanupFailures} failed clean-ups (orphans left)`,
      `  stored: ${d.stored.periods} periods, ${d.stored.objects} objects, ${formatBytes(d.stored.sizeBytes)}, up to ${d.stored.rows} rows`,
    );
  }
  return `${lines.join('\n')}\n`;
}

function formatBytes(bytes: number): string {
  if (bytes >= 1_048_576) return `${(bytes / 1_048_576).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} B`;
}
