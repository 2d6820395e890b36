/**
 * Runs the fake Binance (test/helpers/fake-binance.ts) on 127.0.0.1, for README demos and manual
 * replays of the real data:
 *
 *   npm run -s fake-binance -- [--port N] [--now ISO|epochMs]          # foreground, Ctrl-C to stop
 *   eval "$(npm run -s fake-binance -- start [--port N] [--now T])"    # background (scripts/background.ts)
 *   npm run -s fake-binance -- stop
 *
 * Prints the four `export BINANCE_..._URL=...` lines on stdout once it listens (with `start`: then
 * returns) and everything else on stderr. Without `--now` its clock is the real one, so it serves
 * every recorded candle; give klines the clock of the data with `KLINES_NOW` (a fake clock behind
 * KLINES_NOW would answer "no candles" for candles klines believes closed).
 */
import { parseArgs } from 'node:util';
import { parseTime } from '../lib/domain/time.ts';
import { startFakeBinance } from '../test/helpers/fake-binance.ts';
import { announceReady, runBackgroundCommand } from './background.ts';

if (!(await runBackgroundCommand('fake-binance', 'scripts/fake-binance.ts', process.argv.slice(2)))) await serve();

async function serve(): Promise<void> {
  const { values } = parseArgs({ options: { port: { type: 'string' }, now: { type: 'string' } } });
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    process.stderr.write(`fake-binance: --port "${values.port}" is not a TCP port (0-65535)\n`);
    process.exit(2);
  }
  const nowMs = values.now === undefined ? undefined : parseTime(values.now, 'now');
  const fake = await startFakeBinance({ port, ...(nowMs === undefined ? {} : { nowMs }) });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void fake.close().then(() => process.exit(0));
    });
  }
  const clockNote = nowMs === undefined ? 'the real clock' : new Date(nowMs).toISOString();
  process.stderr.write(`fake-binance: listening on ${fake.url} with now = ${clockNote}\n`);
  announceReady({
    BINANCE_VISION_URL: fake.visionUrl, BINANCE_SPOT_API_URL: fake.spotApiUrl, BINANCE_UM_API_URL: fake.umApiUrl, BINANCE_CM_API_URL: fake.cmApiUrl,
  });
}
