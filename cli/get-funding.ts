/** `klines get SYMBOL --market um --data-type fundingRate ...`: the funding-rate events of a symbol (issue 10, item 5). */
import { writeFile } from 'node:fs/promises';
import { loadConfig } from '../lib/config.ts';
import { InvalidInputError } from '../lib/domain/errors.ts';
import { openCacheHandles } from '../lib/open-cache-handles.ts';
import { buildFundingService } from '../lib/open-funding.ts';
import { fundingCsv, fundingJson, resolveFundingQuery } from '../lib/service/funding-request.ts';
import { encodeFundingColumns } from '../lib/store/funding-codec.ts';
import type { GetOptions } from './get.ts';
import { checkOutput, writeWholeFile } from './output.ts';

/** Runs the funding-rate `get`; returns the exit code. Throws KlinesError for the caller to report. */
export async function runGetFunding(symbol: string, interval: string | undefined, options: GetOptions): Promise<number> {
  const config = loadConfig();
  const nowMs = config.nowMs ?? Date.now();
  const query = resolveFundingQuery({ market: options.market, symbol, interval, start: options.start, end: options.end, days: options.days, source: options.source }, nowMs);
  if (options.withSource) throw new InvalidInputError('--with-source: not available for fundingRate (each event merges what Vision and REST publish)');
  await checkOutput(options);
  const service = buildFundingService(config, await openCacheHandles(config));
  const answer = await service.getFundingRates(query);
  const iso = options.timeFormat === 'iso';
  const body = options.format === 'parquet' ? encodeFundingColumns(answer.columns)
    : options.format === 'json' ? `${fundingJson(answer.columns, iso)}\n` : fundingCsv(answer.columns, iso);
  if (options.format === 'parquet') await writeWholeFile(options.out!, [body as Uint8Array]);
  else if (options.out) await writeFile(options.out, body);
  else process.stdout.write(body);
  if (options.stats) process.stderr.write(`${JSON.stringify({ rows: answer.columns.length, ...answer.stats })}\n`);
  return 0;
}
