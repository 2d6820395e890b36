/**
 * `klines ls [--market M] [--symbol S] [--interval I] [--data-type klines] [--json]` (issue 10,
 * like freqtrade's `list-data --show-timerange`): every cached dataset with its first and last
 * open_time, rows, bytes, sources and holes, from the coverage index alone (no object is read).
 */
import { loadConfig } from '../lib/config.ts';
import { createCacheHandles } from '../lib/create-service.ts';
import { formatRange } from '../lib/domain/ranges.ts';
import { listDatasets, parseDatasetFilter, type DatasetSummary } from '../lib/service/datasets.ts';
import { formatTable } from './table.ts';

/** Options of `klines ls` as commander parses them. */
export interface LsOptions {
  readonly market?: string;
  readonly symbol?: string;
  readonly interval?: string;
  readonly dataType?: string;
  readonly json: boolean;
}

/** Runs `klines ls`; returns 0. Throws InvalidInputError for a bad filter, StoreError when the index cannot be read. */
export async function runLs(options: LsOptions): Promise<number> {
  const datasets = await listDatasets(createCacheHandles(loadConfig()).index, parseDatasetFilter(options));
  process.stdout.write(options.json ? `${JSON.stringify(datasets, null, 2)}\n` : formatDatasets(datasets));
  return 0;
}

function formatDatasets(datasets: readonly DatasetSummary[]): string {
  if (datasets.length === 0) return 'the cache holds no dataset yet\n';
  const rows = datasets.map((d) => [
    d.market, d.dataType, d.symbol, d.interval ?? '-', d.first ?? '-', d.last ?? '-', d.rows, d.sizeBytes, d.sources.join(',') || '-',
    d.neverFetched.length === 0 ? '-' : d.neverFetched.map(formatRange).join(' '),
    d.emptyUpstream.reduce((sum, p) => sum + p.candles, 0),
  ]);
  return formatTable(['market', 'data_type', 'symbol', 'interval', 'first_open_time', 'last_open_time', 'rows', 'bytes', 'sources', 'never_fetched', 'empty_upstream_candles'], rows);
}
