/**
 * Runs a `klines` command against the project's fake Binance, which replays the real recorded
 * files of test/fixtures/binance on 127.0.0.1 (nothing leaves the machine):
 *
 *   npm run replay -- get BTCUSDT 1h --start 2020-10-01 --end 2020-12-15T09:00:00Z --stats
 *
 * The clock is KLINES_NOW (default 2020-12-15T10:30:00Z, inside the recorded spot BTCUSDT 1h
 * months), the cache KLINES_CACHE_DIR (default .cache/replay in this folder). At the end it
 * prints on stderr what the fake served, so a second run shows zero upstream requests.
 */
import { main } from '../cli/main.ts';
import { startFakeBinance } from '../test/helpers/fake-binance.ts';

const now = process.env.KLINES_NOW ?? '2020-12-15T10:30:00Z';
const fake = await startFakeBinance({ nowMs: Date.parse(now) });
Object.assign(process.env, {
  KLINES_NOW: now,
  KLINES_CACHE_DIR: process.env.KLINES_CACHE_DIR ?? '.cache/replay',
  BINANCE_VISION_URL: fake.visionUrl,
  BINANCE_SPOT_API_URL: fake.spotApiUrl,
  BINANCE_UM_API_URL: fake.umApiUrl,
  BINANCE_CM_API_URL: fake.cmApiUrl,
});
try {
  process.exitCode = await main(process.argv.slice(2));
} finally {
  const served = (kind: string) => fake.requests.filter((r) => r.kind === kind && r.status === 200).length;
  const symbolLists = served('exchange-info') > 0 ? `, ${served('exchange-info')} exchangeInfo` : '';
  process.stderr.write(`replay: the fake Binance served ${served('vision-zip')} Vision files and ${served('rest')} REST requests${symbolLists} (clock ${now})\n`);
  await fake.close();
}
