/**
 * The only reader of process.env (STYLE.md). Configuration is read once, validated, and passed
 * down; a bad value fails with the variable's name and what it accepts.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { InvalidInputError } from './domain/errors.ts';
import { parseTime } from './domain/time.ts';

/** Resolved configuration. URLs have no trailing slash. */
export interface Config {
  /** Root of the embedded local cache (`KLINES_CACHE_DIR`). */
  readonly cacheDir: string;
  readonly visionUrl: string;
  readonly spotApiUrl: string;
  readonly umApiUrl: string;
  readonly cmApiUrl: string;
  /** Fixed clock in UTC epoch ms (`KLINES_NOW`) for replaying recorded data; undefined in production. */
  readonly nowMs: number | undefined;
}

/** Binance's public endpoints, used when no override is configured. */
export const DEFAULT_URLS = {
  visionUrl: 'https://data.binance.vision',
  spotApiUrl: 'https://api.binance.com',
  umApiUrl: 'https://fapi.binance.com',
  cmApiUrl: 'https://dapi.binance.com',
} as const;

/**
 * Reads the configuration from an environment (default `process.env`):
 * `KLINES_CACHE_DIR` (default `$XDG_CACHE_HOME/klines`, else `~/.cache/klines`),
 * `BINANCE_VISION_URL`, `BINANCE_SPOT_API_URL`, `BINANCE_UM_API_URL`, `BINANCE_CM_API_URL`,
 * `KLINES_NOW` (ISO-8601 or epoch ms). Throws InvalidInputError naming the bad variable.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return {
    cacheDir: env.KLINES_CACHE_DIR || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'klines'),
    visionUrl: readUrl(env, 'BINANCE_VISION_URL', DEFAULT_URLS.visionUrl),
    spotApiUrl: readUrl(env, 'BINANCE_SPOT_API_URL', DEFAULT_URLS.spotApiUrl),
    umApiUrl: readUrl(env, 'BINANCE_UM_API_URL', DEFAULT_URLS.umApiUrl),
    cmApiUrl: readUrl(env, 'BINANCE_CM_API_URL', DEFAULT_URLS.cmApiUrl),
    nowMs: env.KLINES_NOW ? parseTime(env.KLINES_NOW, 'KLINES_NOW') : undefined,
  };
}

function readUrl(env: NodeJS.ProcessEnv, name: string, fallback: string): string {
  const value = env[name];
  if (!value) return fallback;
  try {
    const url = new URL(value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    throw new InvalidInputError(`${name}: "${value}" is not an http(s) URL (e.g. http://127.0.0.1:8080)`, { [name]: value });
  }
  return value.replace(/\/+$/, '');
}
