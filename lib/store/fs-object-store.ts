/**
 * ObjectStore on the local file system (DESIGN.md, Storage: embedded default). Keys map to paths
 * under `rootDir` unchanged, so DuckDB or pandas can read `{rootDir}/binance/...` directly.
 * Writes go to a temp file in the same folder and are renamed into place (rename is atomic on
 * POSIX), so a killed process leaves at most a stray temp file, never a half object.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ConflictError, InvalidInputError, StoreError } from '../domain/errors.ts';
import { withFileLock } from './fs-lock.ts';
import type { ObjectStore, PutCondition, TaggedObject } from './types.ts';

/** Temp files carry this marker in their name; `list` never returns them. */
export const TEMP_MARKER = '.tmp-';

/**
 * Checks an object key: relative, `/`-separated, no empty, `.` or `..` segment, no backslash,
 * no NUL, and not containing TEMP_MARKER (the store's own temp names). Throws InvalidInputError naming the key otherwise. An empty key is allowed only when
 * `allowEmpty` (a `list` prefix for the whole store).
 */
export function validateKey(key: string, allowEmpty = false): void {
  if (key === '' && allowEmpty) return;
  const bad =
    key === '' || key.startsWith('/') || key.includes('\\') || key.includes('\0') || key.includes(TEMP_MARKER) ||
    key.split('/').some((segment) => segment === '' || segment === '.' || segment === '..');
  if (bad) {
    throw new InvalidInputError(
      `object key ${JSON.stringify(key)} is not valid: keys are relative, '/'-separated, with no empty, '.' or '..' segment and no backslash`,
      { key },
    );
  }
}

/** Writes `body` to `file` through a same-folder temp file and a rename; creates folders. */
export async function writeFileAtomic(file: string, body: Uint8Array | string): Promise<void> {
  const dir = path.dirname(file);
  await mkdir(dir, { recursive: true });
  const temp = path.join(dir, `${path.basename(file)}${TEMP_MARKER}${process.pid}-${randomBytes(6).toString('hex')}`);
  try {
    await writeFile(temp, body);
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw error;
  }
}

/** True for Node errors with the given `code` (`ENOENT`, `EEXIST` …). */
export function hasErrorCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}

/**
 * An ObjectStore rooted at `rootDir` (created on first write).
 * - `get` → `undefined` for a missing key; `delete` of a missing key is a no-op.
 * - `put` with a condition runs under the key's lock (fs-lock.ts) and compares the tag of the
 *   file there (inode, mtime in ns and size: every write renames a new inode into place) with
 *   the condition; a false one throws ConflictError. Writes without a condition take no lock.
 * - `list(prefix)` is a plain string prefix over keys (`a/b` matches `a/b.parquet` and
 *   `a/b/c`), recursive, sorted, temp files excluded.
 * Bad keys throw InvalidInputError; I/O failures throw StoreError with `details.key`.
 */
export function createFsObjectStore(rootDir: string): ObjectStore {
  const root = path.resolve(rootDir);
  const fileOf = (key: string): string => path.join(root, ...key.split('/'));
  const getTagged = async (key: string): Promise<TaggedObject | undefined> => {
    validateKey(key);
    try {
      return await readTagged(fileOf(key));
    } catch (cause) {
      if (hasErrorCode(cause, 'ENOENT')) return undefined;
      throw storeError('read', key, cause);
    }
  };

  return {
    async put(key, body, condition) {
      validateKey(key);
      const file = fileOf(key);
      try {
        if (!condition) await writeFileAtomic(file, body);
        else await withFileLock(file, () => putIf(file, key, body, condition));
      } catch (cause) {
        if (cause instanceof ConflictError) throw cause;
        throw storeError('write', key, cause);
      }
    },

    async get(key) {
      return (await getTagged(key))?.body;
    },

    getTagged,

    async delete(key) {
      validateKey(key);
      try {
        await rm(fileOf(key), { force: true });
      } catch (cause) {
        throw storeError('delete', key, cause);
      }
    },

    async list(prefix) {
      validateListPrefix(prefix);
      // Walk only the deepest folder the prefix names fully, then filter by the whole prefix.
      const slash = prefix.lastIndexOf('/');
      const base = slash < 0 ? '' : prefix.slice(0, slash);
      try {
        const keys = await walk(root, base);
        return keys.filter((key) => key.startsWith(prefix)).sort();
      } catch (cause) {
        throw storeError('list', prefix, cause);
      }
    },
  };
}

/**
 * Reads a file and the tag of the version read (fstat of the same descriptor, so they agree).
 * The body is read by one positional read of the size fstat gave (more only on a short read),
 * not by FileHandle.readFile, which reads in 512 KiB steps: each step is a round trip through
 * libuv's thread pool, and V8 runs its garbage-collection tasks in the idle time between them
 * (reading and decoding a month of 1m, 100 times in one process: 6 ms a read this way against
 * 9-10 ms, with half the major GCs). A file cut
 * short under the descriptor gives the bytes that were there; the caller's size and CRC-32
 * checks (object-verify.ts) then reject it.
 */
async function readTagged(file: string): Promise<TaggedObject> {
  const handle = await open(file, 'r');
  try {
    const info = await handle.stat({ bigint: true });
    const size = Number(info.size);
    // Not zero-filled: the bytes past a short read are never exposed (subarray below).
    const body = new Uint8Array(Buffer.allocUnsafeSlow(size).buffer, 0, size);
    let read = 0;
    while (read < size) {
      const { bytesRead } = await handle.read(body, read, size - read, read);
      if (bytesRead === 0) break;
      read += bytesRead;
    }
    return { body: read === size ? body : body.subarray(0, read), tag: `${info.ino}-${info.mtimeNs}-${info.size}` };
  } finally {
    await handle.close();
  }
}

/** The conditional write, run under the key's lock. */
async function putIf(file: string, key: string, body: Uint8Array, condition: PutCondition): Promise<void> {
  let tag: string | undefined;
  try {
    const info = await stat(file, { bigint: true });
    tag = `${info.ino}-${info.mtimeNs}-${info.size}`;
  } catch (error) {
    if (!hasErrorCode(error, 'ENOENT')) throw error;
  }
  const holds = 'ifNoneMatch' in condition ? tag === undefined : tag === condition.ifMatch;
  if (!holds) {
    throw new ConflictError(`fs object store: ${JSON.stringify(key)} changed since it was read (${'ifNoneMatch' in condition ? 'it exists now' : 'another version is there now'}); re-read and retry`, { key });
  }
  await writeFileAtomic(file, body);
}

function validateListPrefix(prefix: string): void {
  // A prefix may end in '/' (a folder) or mid-segment; its complete segments must be valid.
  const trimmed = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  validateKey(trimmed, true);
}

async function walk(root: string, base: string): Promise<string[]> {
  const dir = base === '' ? root : path.join(root, ...base.split('/'));
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if (hasErrorCode(error, 'ENOENT') || hasErrorCode(error, 'ENOTDIR')) return [];
    throw error;
  }
  const out: string[] = [];
  for (const entry of entries) {
    const key = base === '' ? entry.name : `${base}/${entry.name}`;
    if (entry.isDirectory()) out.push(...(await walk(root, key)));
    else if (entry.isFile() && !entry.name.includes(TEMP_MARKER)) out.push(key);
  }
  return out;
}

function storeError(action: string, key: string, cause: unknown): StoreError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new StoreError(`fs object store: cannot ${action} ${JSON.stringify(key)}: ${reason}`, { cause, details: { key } });
}
