/**
 * Runs the fake Binance (test/helpers/fake-binance.ts) on 127.0.0.1 until killed, for README
 * demos and manual replays of the real data:
 *
 *   node --import tsx scripts/fake-binance.ts [--port N] [--now ISO|epochMs]
 *
 * Prints the four `export BINANCE_..._URL=...` lines on stdout (so `eval "$(...)"`-style use
 * works) and everything else on stderr. With `--now`, also set `KLINES_NOW` to the same value
 * so the cache's clock agrees with the fake's.
 */
import { parseArgs } from 'node:util';
import { parseTime } from '../lib/domain/time.ts';
import { startFakeBinance } from '../test/helpers/fake-binance.ts';

const { values } = parseArgs({ options: { port: { type: 'string' }, now: { type: 'string' } } });
const port = values.port === undefined ? 0 : Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  process.stderr.write(`fake-binance: --port "${values.port}" is not a TCP port (0-65535)\n`);
  process.exit(2);
}
const nowMs = values.now === undefined ? undefined : parseTime(values.now, 'now');

const fake = await startFakeBinance({ port, ...(nowMs === undefined ? {} : { nowMs }) });
process.stdout.write([
  `export BINANCE_VISION_URL=${fake.visionUrl}`,
  `export BINANCE_SPOT_API_URL=${fake.spotApiUrl}`,
  `export BINANCE_UM_API_URL=${fake.umApiUrl}`,
  `export BINANCE_CM_API_URL=${fake.cmApiUrl}`,
  '',
].join('\n'));
const clockNote = nowMs === undefined ? 'the real clock' : new Date(nowMs).toISOString();
process.stderr.write(`fake-binance: listening on ${fake.url} with now = ${clockNote}; Ctrl-C to stop\n`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void fake.close().then(() => process.exit(0));
  });
}
