/**
 * Output formats of an answer: CSV (header = column names, times in epoch ms), JSON (an array of
 * objects keyed by column name) and Parquet (the cache's schema). Used by the CLI and handlers.
 */
import { KLINE_COLUMNS, type Kline, type SourcedKline } from '../domain/kline.ts';
import { encodeKlines } from '../store/parquet-codec.ts';

/** Accepted output formats. */
export const OUTPUT_FORMATS = ['csv', 'json', 'parquet'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** CSV text with a header row; `withSource` adds a `source` column (cache|vision|rest). */
export function formatCsv(rows: readonly SourcedKline[], withSource: boolean): string {
  const header = withSource ? [...KLINE_COLUMNS, 'source'] : [...KLINE_COLUMNS];
  const lines = [header.join(',')];
  for (const row of rows) {
    const values: (string | number)[] = KLINE_COLUMNS.map((column) => row[column]);
    if (withSource) values.push(row.source);
    lines.push(values.join(','));
  }
  return `${lines.join('\n')}\n`;
}

/** JSON text: an array of row objects; `withSource` keeps the `source` key. */
export function formatJson(rows: readonly SourcedKline[], withSource: boolean): string {
  return JSON.stringify(withSource ? rows : rows.map(stripSource));
}

/** Parquet bytes with the cache's 11 columns (no source column). */
export function formatParquet(rows: readonly Kline[]): Uint8Array {
  return encodeKlines(rows.map(stripSource));
}

function stripSource(row: Kline | SourcedKline): Kline {
  const { source: _source, ...kline } = row as SourcedKline;
  return kline;
}
