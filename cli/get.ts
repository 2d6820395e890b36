/** `klines get`: resolves the request, asks the service, writes the answer. */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { SingleBar } from 'cli-progress';
import { loadConfig } from '../lib/config.ts';
import { InvalidInputError } from '../lib/domain/errors.ts';
import { openCacheHandles } from '../lib/open-cache-handles.ts';
import { buildService, buildStreamer } from '../lib/open-service.ts';
import { TEXT_SINK_HIGH_WATER_MARK } from '../lib/service/answer-text.ts';
import { parquetBytes, writeCsv, writeJson, type OutputFormat, type TimeFormat } from '../lib/service/format.ts';
import { resolveQuery } from '../lib/service/request.ts';
import type { KlinesStream } from '../lib/service/stream-klines.ts';
import { checkOutput, writeWholeFile } from './output.ts';

/** Options of `klines get` as commander parses them. */
export interface GetOptions {
  market: string;
  start?: string;
  end?: string;
  days?: string;
  timeFormat?: TimeFormat;
  format: OutputFormat;
  out?: string;
  source: string;
  dataType?: string;
  withSource: boolean;
  stats: boolean;
}

/** Runs `klines get`; returns the exit code. Throws KlinesError for the caller to report. */
export async function runGet(symbol: string, interval: string | undefined, options: GetOptions): Promise<number> {
  if (interval === undefined) throw new InvalidInputError('interval: required for candles, e.g. klines get BTCUSDT 1h (only --data-type fundingRate takes none)');
  const config = loadConfig();
  const nowMs = config.nowMs ?? Date.now();
  const query = resolveQuery({ market: options.market, symbol, interval, start: options.start, end: options.end, days: options.days, source: options.source, dataType: options.dataType }, nowMs);
  if (options.format === 'parquet' && options.withSource) throw new InvalidInputError('--with-source works with csv and json, not parquet');
  await checkOutput(options);

  const handles = await openCacheHandles(config);
  const service = buildService(config, handles);
  const progress = process.stderr.isTTY ? new SingleBar({ format: 'fetching {bar} {value}/{total} pieces', hideCursor: true, clearOnComplete: true }) : undefined;
  let started = false;
  const request = {
    ...query,
    onProgress: (done: number, total: number) => {
      if (!progress) return;
      if (!started) progress.start(total, 0);
      started = true;
      progress.setTotal(total);
      progress.update(done);
    },
  };

  // Every format streams period by period: memory stays flat however long the range.
  const stream = buildStreamer(config, handles, service)(request);
  try {
    if (options.format === 'parquet') await writeWholeFile(options.out!, parquetBytes(stream));
    else await writeText(stream, options);
  } finally {
    progress?.stop();
  }
  if (options.stats) process.stderr.write(`${JSON.stringify({ rows: stream.rows, ...stream.stats })}\n`);
  return 0;
}

/** CSV or JSON to `--out` or stdout; a failure midway leaves what was written (README, `klines get`). */
async function writeText(stream: KlinesStream, options: GetOptions): Promise<void> {
  const sink = options.out ? createWriteStream(options.out, { highWaterMark: TEXT_SINK_HIGH_WATER_MARK }) : process.stdout;
  const write = (chunk: Uint8Array): Promise<void> | void => (sink.write(chunk) ? undefined : once(sink, 'drain').then(() => undefined));
  if (options.format === 'json') await writeJson(stream, options.withSource, write, options.timeFormat, '\n');
  else await writeCsv(stream, options.withSource, write, options.timeFormat);
  if (sink !== process.stdout) await new Promise<void>((resolve, reject) => sink.end((error?: Error | null) => (error ? reject(error) : resolve())));
}
