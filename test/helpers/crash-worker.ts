/**
 * A worker that kills itself (SIGKILL, no clean-up) at one step of filling the cache, to prove
 * crash safety (issue 3, item 6). Configured by the usual environment; run as
 *   node --import tsx test/helpers/crash-worker.ts STEP MARKET SYMBOL INTERVAL START_ISO END_ISO
 * STEP: after-part-put | after-coverage-put | after-canonical-put | after-compaction-put | holding-lease.
 * Exits 3 if the step never happened (so a test cannot pass by accident).
 */
import { loadConfig } from '../../lib/config.ts';
import { createCacheHandles, createServiceFromConfig } from '../../lib/create-service.ts';
import { parseInterval } from '../../lib/domain/intervals.ts';
import { parseMarket } from '../../lib/domain/markets.ts';
import type { CoverageIndex, LeaseStore, ObjectStore, PeriodRecord, PutCondition } from '../../lib/store/types.ts';

const [step, marketText, symbol, intervalText, startIso, endIso] = process.argv.slice(2) as [string, string, string, string, string, string];
const die = (): never => {
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable');
};

const config = loadConfig();
const handles = createCacheHandles(config);
const store: ObjectStore = {
  ...handles.store,
  async put(key: string, body: Uint8Array, condition?: PutCondition) {
    await handles.store.put(key, body, condition);
    if (step === 'after-part-put' && key.includes('.parts/')) die();
    if (step === 'after-canonical-put' && !key.includes('.parts/')) die();
  },
};
const index: CoverageIndex = {
  query: (...args) => handles.index.query(...args),
  scan: () => handles.index.scan(),
  readBounds: (...args) => handles.index.readBounds(...args),
  putBounds: (...args) => handles.index.putBounds(...args),
  async put(record: PeriodRecord) {
    await handles.index.put(record);
    if (step === 'after-coverage-put' && record.parts.length > 0) die();
    if (step === 'after-compaction-put' && record.canonical && record.parts.length === 0) die();
  },
};
const leases: LeaseStore = {
  ...handles.leases,
  async acquire(...args: Parameters<LeaseStore['acquire']>) {
    const taken = await handles.leases.acquire(...args);
    if (step === 'holding-lease' && taken) die();
    return taken;
  },
};

const market = parseMarket(marketText);
const service = createServiceFromConfig(config, { ...handles, store, index, leases });
await service.getKlines({
  dataset: { market, symbol, interval: parseInterval(intervalText, market) },
  range: { startMs: Date.parse(startIso), endMs: Date.parse(endIso) + 1 },
});
process.exitCode = 3;
