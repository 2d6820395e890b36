/**
 * Parquet encoding of funding-rate events (issue 10, item 5): the project's own writer
 * (parquet-writer.ts: one row group, one ZSTD-compressed v1 page per column), flat and required:
 * `calc_time` INT64 TIMESTAMP(MILLIS, UTC), `funding_interval_hours`, `last_funding_rate`,
 * `mark_price` DOUBLE (NaN where the upstream does not publish the value; funding-rate.ts).
 * PLAIN values: a month holds about 90 events (8-hourly), so layout choices buy nothing.
 * Decoding goes through hyparquet, with ZSTD pages by node:zlib.
 */
import { parquetMetadata } from 'hyparquet/src/metadata.js';
import type { DecodedArray } from 'hyparquet';
import zlib from 'node:zlib';
import { DataValidationError } from '../domain/errors.ts';
import { allocateFundingColumns, FUNDING_COLUMNS, type FundingColumns } from '../domain/funding-rate.ts';
import { CREATED_BY } from './parquet-codec.ts';
import { encodePlainDouble, encodePlainInt64, zstdCompress } from './parquet-page-codecs.ts';
import { writeParquetFile, type ColumnChunkInput } from './parquet-writer.ts';
import { parquetReadLazily } from './parquet-read-lazy.ts';

/** Encodes the columns (rows in the order given). Throws DataValidationError for a calc_time that is not a safe integer. */
export function encodeFundingColumns(c: FundingColumns): Uint8Array {
  const n = c.length;
  for (let i = 0; i < n; i++) {
    if (!Number.isSafeInteger(c.calc_time[i]!)) throw new DataValidationError(`funding-codec: row ${i} has a non-integer calc_time ${c.calc_time[i]}`, { row: i });
  }
  const chunks = FUNDING_COLUMNS.map((name): ColumnChunkInput => {
    const isTime = name === 'calc_time';
    const encoded = n === 0 ? new Uint8Array(0) : isTime ? encodePlainInt64(c[name], n) : encodePlainDouble(c[name], n);
    const statistics = isTime && n > 0 ? { min: c.calc_time[0]!, max: c.calc_time[n - 1]! } : undefined;
    return {
      name, type: isTime ? 'INT64' : 'DOUBLE', timestampMillis: isTime, encoding: 'PLAIN', codec: 'ZSTD',
      page: n === 0 ? encoded : zstdCompress(encoded), uncompressedSize: encoded.byteLength, ...(statistics ? { statistics } : {}),
    };
  });
  return writeParquetFile(chunks, n, CREATED_BY);
}

/** Decodes a file of these columns. Throws DataValidationError when it is not Parquet or lacks a column. */
export async function decodeFundingColumns(bytes: Uint8Array): Promise<FundingColumns> {
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const parsers = { timestampFromMilliseconds: (millis: bigint): number => Number(millis) };
  let metadata;
  try {
    metadata = parquetMetadata(file, { parsers });
  } catch (cause) {
    throw new DataValidationError(`funding-codec: not a Parquet file (${bytes.byteLength} bytes): ${String(cause)}`, {});
  }
  const present = new Set(metadata.schema.slice(1).map((element) => element.name));
  const missing = FUNDING_COLUMNS.filter((name) => !present.has(name));
  if (missing.length > 0) throw new DataValidationError(`funding-codec: file lacks column(s) ${missing.join(', ')}`, { missing });
  const columns = allocateFundingColumns(Number(metadata.num_rows));
  await parquetReadLazily({
    file, metadata, columns: [...FUNDING_COLUMNS], parsers,
    compressors: { ZSTD: (input) => zlib.zstdDecompressSync(input) },
    onChunk: ({ columnName, columnData, rowStart }) => copy(columnData, columns[columnName as (typeof FUNDING_COLUMNS)[number]], rowStart),
  });
  return columns;
}

function copy(source: DecodedArray, target: Float64Array, rowStart: number): void {
  for (let i = 0; i < source.length; i++) target[rowStart + i] = Number(source[i]);
}
