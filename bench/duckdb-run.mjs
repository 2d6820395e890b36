// Runs SQL statements (one per argument) in a fresh in-memory DuckDB (@duckdb/node-api, a dev
// dependency used by the bench only): the DuckDB side of the bench's whole-process figures.
import { DuckDBInstance } from '@duckdb/node-api';

const instance = await DuckDBInstance.create(':memory:');
const connection = await instance.connect();
for (const sql of process.argv.slice(2)) await connection.run(sql);
connection.closeSync();
instance.closeSync();
