/** `klines get`: resolves the request, asks the service, writes the answer. */
import { writeFile } from 'node:fs/promises';
import { SingleBar } from 'cli-progress';
import { loadConfig } from '../lib/config.ts';
import { createServiceFromConfig } from '../lib/create-service.ts';
import { InvalidInputError } from '../lib/domain/errors.ts';
import { formatCsv, formatJson, formatParquet, type OutputFormat } from '../lib/service/format.ts';
import { resolveQuery } from '../lib/service/request.ts';

/** Options of `klines get` as commander parses them. */
export interface GetOptions {
  market: string;
  start: string;
  end?: string;
  format: OutputFormat;
  out?: string;
  source: string;
  withSource: boolean;
  stats: boolean;
}

/** Runs `klines get`; returns the exit code. Throws KlinesError for the caller to report. */
export async function runGet(symbol: string, interval: string, options: GetOptions): Promise<number> {
  const config = loadConfig();
  const nowMs = config.nowMs ?? Date.now();
  const query = resolveQuery({ market: options.market, symbol, interval, start: options.start, end: options.end, source: options.source }, nowMs);
  if (options.format === 'parquet' && !options.out) throw new InvalidInputError('--format parquet writes binary: give --out FILE');
  if (options.format === 'parquet' && options.withSource) throw new InvalidInputError('--with-source works with csv and json, not parquet');

  const service = createServiceFromConfig(config);
  const progress = process.stderr.isTTY ? new SingleBar({ format: 'fetching {bar} {value}/{total} pieces', hideCursor: true, clearOnComplete: true }) : undefined;
  let started = false;
  const answer = await service.getKlines({
    ...query,
    onProgress: (done, total) => {
      if (!progress) return;
      if (!started) progress.start(total, 0);
      started = true;
      progress.setTotal(total);
      progress.update(done);
    },
  }).finally(() => progress?.stop());

  const body = options.format === 'parquet' ? formatParquet(answer.rows)
    : options.format === 'json' ? `${formatJson(answer.rows, options.withSource)}\n` : formatCsv(answer.rows, options.withSource);
  if (options.out) await writeFile(options.out, body);
  else await writeStdout(body as string);
  if (options.stats) process.stderr.write(`${JSON.stringify({ rows: answer.rows.length, ...answer.stats })}\n`);
  return 0;
}

function writeStdout(text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(text, (error) => (error ? reject(error) : resolve()));
  });
}
