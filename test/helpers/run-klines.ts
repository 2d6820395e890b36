/**
 * Runs the built `klines` command (bin/klines.mjs) in a child process, as a user would, with the
 * fake Binance's URLs, a fixed clock and the given extra environment (cache location, AWS).
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { KLINE_COLUMNS } from '../../lib/domain/kline.ts';
import { expectedKlines } from './expected.ts';
import type { FakeBinance } from './fake-binance.ts';

const run = promisify(execFile);
const BIN = resolve(import.meta.dirname, '../../bin/klines.mjs');

/** What the command printed and its exit code. */
export interface KlinesRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `klines ...args` against `fake` with the clock at `nowIso` and `env` added. */
export async function runKlines(fake: FakeBinance, nowIso: string, env: Record<string, string>, args: readonly string[]): Promise<KlinesRun> {
  const fullEnv = {
    PATH: process.env.PATH, ...env, KLINES_NOW: nowIso, BINANCE_VISION_URL: fake.visionUrl,
    BINANCE_SPOT_API_URL: fake.spotApiUrl, BINANCE_UM_API_URL: fake.umApiUrl, BINANCE_CM_API_URL: fake.cmApiUrl,
  };
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { env: fullEnv, maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** The CSV `klines get` must print for spot BTCUSDT 1h with open_time in [start, end] (ISO, inclusive). */
export function expectedBtc1hCsv(startIso: string, endIso: string): string {
  const rows = expectedKlines('spot', 'BTCUSDT', '1h', Date.parse(startIso), Date.parse(endIso));
  return `${[KLINE_COLUMNS.join(','), ...rows.map((row) => KLINE_COLUMNS.map((c) => row[c]).join(','))].join('\n')}\n`;
}
