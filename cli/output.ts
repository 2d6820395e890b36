/**
 * Where `klines get` writes (cli/get.ts for klines, cli/get-funding.ts for funding rates): the
 * checks made before anything is fetched, and whole files written so that no cut-short file is
 * ever left at `--out`.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream, rmSync } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { onExit } from 'signal-exit';
import { InvalidInputError } from '../lib/domain/errors.ts';

/**
 * Parquet needs `--out` (it is binary), and `--out` must name a file in an existing folder.
 * Throws InvalidInputError saying which.
 */
export async function checkOutput(options: { readonly format: string; readonly out?: string | undefined }): Promise<void> {
  if (options.format === 'parquet' && !options.out) throw new InvalidInputError('--format parquet writes binary: give --out FILE');
  if (options.out) await checkOutFolder(options.out);
}

/**
 * Writes `bytes` to a hidden temporary file next to `out`, renamed to `out` once complete: a
 * failure midway removes it and leaves `out` as it was (a Parquet file cut short is not readable,
 * and must not look like an answer). So does Ctrl-C or a kill (SIGINT, SIGTERM, SIGHUP): signal-exit
 * removes the temporary file before the process ends by that signal.
 */
export async function writeWholeFile(out: string, bytes: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<void> {
  const temporary = join(dirname(out), `.${basename(out)}.${randomUUID()}.partial`);
  const removeOnSignal = onExit(() => rmSync(temporary, { force: true }));
  try {
    await pipeline(Readable.from(bytes), createWriteStream(temporary));
    await rename(temporary, out);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  } finally {
    removeOnSignal();
  }
}

/** `--out` must name a file in an existing folder, checked before anything is fetched. Throws InvalidInputError. */
async function checkOutFolder(out: string): Promise<void> {
  const folder = dirname(resolve(out));
  const info = await stat(folder).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new InvalidInputError(`--out: the folder ${folder} does not exist; create it first (mkdir -p ${folder}) or write elsewhere`, { out });
  }
}
