/**
 * A Parquet file of klines written row group by row group (issue 9, "memory flat in the range's
 * length"): the bytes come out in order as the column chunks of an answer arrive (a period at a
 * time), so a long answer is never whole in memory, only one row group and the footer's small
 * description of the groups before it. The file has the cache files' schema and encodings
 * (parquet-codec.ts: ZSTD pages, TIMESTAMP(MILLIS, UTC) times, min/max statistics per row group,
 * `created_by`), with one row group per chunk, chunks shorter than ROW_GROUP_MIN_ROWS being joined
 * to the next. No rows: a file with the schema and no row group.
 */
import { concatColumns, type KlineColumns } from '../domain/kline-columns.ts';
import { CREATED_BY, encodeKlineChunks, KLINE_SCHEMA } from './parquet-codec.ts';
import { encodeRowGroup, PARQUET_MAGIC, parquetFooter, type RowGroupLayout } from './parquet-writer.ts';

/**
 * Fewest rows of a row group but the last: a month of 1m (40,320-44,640) is a group of its own,
 * while short periods (a month of 1h is 744 rows) are joined, so a reader is not handed thousands
 * of tiny groups. Shorter chunks are copied together; longer ones are encoded as they come.
 */
export const ROW_GROUP_MIN_ROWS = 32_768;

/**
 * The bytes of one Parquet file holding every row of `chunks`, in order (the rows must be in
 * open_time order, as an answer's are). Yields `PAR1`, then each row group, then the footer.
 * Throws DataValidationError (parquet-codec.ts) on a non-integer time or trade count, and
 * whatever iterating `chunks` throws; the bytes yielded before are then not a complete file.
 */
export async function* klineParquetBytes(
  chunks: AsyncIterable<KlineColumns> | Iterable<KlineColumns>, minRowGroupRows = ROW_GROUP_MIN_ROWS,
): AsyncGenerator<Uint8Array> {
  yield PARQUET_MAGIC;
  let offset = PARQUET_MAGIC.byteLength;
  const groups: RowGroupLayout[] = [];
  let held: KlineColumns[] = [];
  let heldRows = 0;
  const flush = (): readonly Uint8Array[] => {
    const columns = concatColumns(held);
    held = [];
    heldRows = 0;
    const group = encodeRowGroup(encodeKlineChunks(columns), columns.length, offset);
    groups.push(group.layout);
    offset += group.byteLength;
    return group.pieces;
  };
  for await (const chunk of chunks) {
    if (chunk.length === 0) continue;
    held.push(chunk);
    heldRows += chunk.length;
    if (heldRows >= minRowGroupRows) yield* flush();
  }
  if (heldRows > 0) yield* flush();
  yield parquetFooter(KLINE_SCHEMA, groups, CREATED_BY);
}
