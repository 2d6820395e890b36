/**
 * hyparquet's general reader (`parquetRead`), imported on its first use (issue 9, cold starts):
 * the cache's own kline files are read by parquet-fast-reader.ts, so the reader's ~40 kB of
 * row-group planning, filters, variant, geometry and bloom-filter code is needed only for files
 * outside our layouts and for funding-rate files. Same options, result and errors as parquetRead.
 */
import type { ParquetReadOptions } from 'hyparquet';
import { once } from '../lazy.ts';

const loadReader = once(() => import('hyparquet/src/read.js').then((module) => module.parquetRead));

/** hyparquet's `parquetRead(options)`, loading hyparquet's reader first when this process has not yet. */
export async function parquetReadLazily(options: ParquetReadOptions): Promise<void> {
  await (await loadReader())(options);
}
