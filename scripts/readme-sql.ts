/**
 * Checks a README `sql` block in DuckDB (`@duckdb/node-api`, a dev dependency): used by
 * `npm run readme-check` (scripts/readme-check.ts) and by tests that fill a cache themselves
 * (test/integration/series-duckdb.test.ts).
 */
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { parquetGlobs, type ReadmeBlock } from './readme-blocks.ts';

/**
 * Runs a SQL block with its Parquet globs taken under `root` (absolute): the query must return
 * `rows` rows, and its globs alone must hold `rows` rows with `rows` distinct values of `key`
 * (`open_time` for candles, `calc_time` for funding events): each row once. Returns what is
 * wrong, if anything.
 */
export async function checkSqlRows(code: string, root: string, rows: number, key = 'open_time'): Promise<string | undefined> {
  const globs = parquetGlobs(code);
  const sql = globs.reduce((text, glob) => text.replaceAll(`'${glob}'`, `'${join(root, glob)}'`), code).trim().replace(/;$/, '');
  const sources = globs.map((glob) => `'${join(root, glob)}'`).join(', ');
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const answered = Number((await connection.runAndReadAll(`SELECT count(*) AS n FROM (${sql})`)).getRowObjectsJS()[0]!.n);
    const raw = (await connection.runAndReadAll(`SELECT count(*) AS n, count(DISTINCT ${key}) AS d FROM read_parquet([${sources}])`)).getRowObjectsJS()[0]!;
    if (answered === rows && Number(raw.n) === rows && Number(raw.d) === rows) return undefined;
    return `DuckDB answered ${answered} rows; the globs hold ${Number(raw.n)} rows with ${Number(raw.d)} distinct ${key} values; expected ${rows} each`;
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** checkSqlRows for a block with a parquet-rows directive, its DIR taken under `dir`. */
export async function checkParquetRows(block: ReadmeBlock, dir: string): Promise<string | undefined> {
  const { dir: folder, rows, key } = block.parquetRows!;
  return checkSqlRows(block.code, join(dir, folder), rows, key);
}
