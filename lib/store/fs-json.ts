/**
 * JSON-file helpers shared by the file-backed stores (coverage index, leases, stats): walk a
 * folder for record files, read one record or `undefined`, write one atomically, and wrap a
 * failure into a StoreError naming the store and the action. Each record is one JSON document
 * followed by a newline; temp files (TEMP_MARKER) and lock folders (`*.lock`, fs-lock.ts) are
 * never taken for records.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { ConflictError, InvalidInputError, StoreError } from '../domain/errors.ts';
import { hasErrorCode, TEMP_MARKER, writeFileAtomic } from './fs-object-store.ts';
import { isLockBusy } from './fs-lock.ts';

/** The suffix of every record file of the file-backed stores. */
export const JSON_SUFFIX = '.json';

/**
 * Absolute paths of the record files (`*.json`, temp files excluded) under `dir`, recursively,
 * in path order (names compared as UTF-16 text); lock folders are skipped. A missing `dir`
 * gives `[]`; other I/O errors are thrown as Node raised them.
 */
export async function walkJsonFiles(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if (hasErrorCode(error, 'ENOENT')) return [];
    throw error;
  }
  const out: string[] = [];
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!entry.name.endsWith('.lock')) out.push(...(await walkJsonFiles(full)));
    } else if (entry.isFile() && isJsonRecordName(entry.name)) {
      out.push(full);
    }
  }
  return out;
}

/** True for a record file name: ends in `.json` and is not a temp file. */
export function isJsonRecordName(name: string): boolean {
  return name.endsWith(JSON_SUFFIX) && !name.includes(TEMP_MARKER);
}

/**
 * The parsed JSON of `file` (its shape unchecked: the caller validates it), or `undefined`
 * when the file does not exist. Throws the Node I/O error otherwise, or SyntaxError for text
 * that is not JSON.
 */
export async function readJsonFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (hasErrorCode(error, 'ENOENT')) return undefined;
    throw error;
  }
  return JSON.parse(text) as unknown;
}

/** Writes `value` as one line of JSON to `file` through a temp file and a rename (fs-object-store.ts); creates folders. */
export function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  return writeFileAtomic(file, `${JSON.stringify(value)}\n`);
}

/** What `wrapStoreError` needs to word the error. */
export interface StoreErrorContext {
  /** The store, opening the message: `coverage index`, `lease store` … */
  readonly store: string;
  /** What failed, after `cannot `: `put BTCUSDT… 2024-01 v3`. */
  readonly action: string;
  /** The reason given when the cause is a lock held past the retry budget (fs-lock.ts `isLockBusy`). */
  readonly lockBusyReason: string;
  /** `details` of the StoreError. */
  readonly details: Record<string, unknown>;
}

/**
 * The error a file-backed store throws for `cause`: ConflictError, InvalidInputError and
 * StoreError pass through unchanged; anything else becomes
 * `StoreError("{store}: cannot {action}: {reason}")` with `cause` and `details`, where the
 * reason is `lockBusyReason` for a busy lock and the cause's message otherwise.
 */
export function wrapStoreError(cause: unknown, context: StoreErrorContext): Error {
  if (cause instanceof ConflictError || cause instanceof InvalidInputError || cause instanceof StoreError) return cause;
  const reason = isLockBusy(cause) ? context.lockBusyReason : cause instanceof Error ? cause.message : String(cause);
  return new StoreError(`${context.store}: cannot ${context.action}: ${reason}`, { cause, details: context.details });
}
