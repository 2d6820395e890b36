/**
 * Reads the one `.csv` member of a Vision zip. yauzl parses the archive (central directory,
 * local header) and hands over the member's raw deflate bytes; Node's native `inflateRawSync`
 * inflates them in one call (~2M rows/s of 1m CSV here, against ~0.7M for fflate's JS inflate
 * and ~0.5M for yauzl's own streaming inflate: bench/RESULTS.md). Vision archives hold exactly
 * one deflated member named `<SYMBOL>-<interval>-<date>.csv` (SOURCES.md, "Zip archives").
 */
import { inflateRawSync } from 'node:zlib';
import { promisify } from 'node:util';
import type yauzlModule from 'yauzl';
import type { Entry, ZipFile } from 'yauzl';
import { DataValidationError } from '../domain/errors.ts';
import { once } from '../lazy.ts';
import { knownSizeOutput } from '../zlib-output.ts';

/** The largest output buffer inflated into at once (64 MiB; a month of 1m CSV is ~6 MiB); a larger member comes in chunks of this size. */
const MAX_INFLATE_CHUNK_BYTES = 64 * 1024 * 1024;

// Loaded with the first Vision file: a container answering from the cache never unzips (issue 9, cold starts).
const opener = once(() => import('yauzl').then((module) => promisify<Buffer, yauzlModule.Options, ZipFile>(module.default.fromBuffer)));
const openZip = async (zip: Buffer, options: yauzlModule.Options): Promise<ZipFile> => (await opener())(zip, options);

/**
 * The bytes (ASCII CSV) of the single `.csv` member of `zip`. `context` names the file in errors.
 * Throws DataValidationError when the bytes are not a readable zip, hold other than exactly one
 * `.csv` member, or the member does not inflate to its recorded size.
 */
export async function readSingleCsvMember(zip: Buffer, context: string): Promise<Buffer> {
  let file: ZipFile;
  try {
    file = await openZip(zip, { lazyEntries: true, validateEntrySizes: true });
  } catch (error) {
    throw new DataValidationError(`${context} is not a readable zip: ${(error as Error).message}`, { context });
  }
  try {
    const entries = await listEntries(file);
    const csv = entries.filter((entry) => entry.fileName.toLowerCase().endsWith('.csv'));
    if (csv.length !== 1) {
      throw new DataValidationError(
        `${context} holds ${csv.length} .csv members (${entries.map((e) => e.fileName).join(', ') || 'none'}); expected exactly one`, { context },
      );
    }
    return await readEntry(file, csv[0]!, context);
  } catch (error) {
    if (error instanceof DataValidationError) throw error;
    throw new DataValidationError(`${context} is not a readable zip: ${(error as Error).message}`, { context });
  } finally {
    file.close();
  }
}

function listEntries(file: ZipFile): Promise<Entry[]> {
  return new Promise((resolve, reject) => {
    const entries: Entry[] = [];
    file.on('entry', (entry: Entry) => {
      entries.push(entry);
      file.readEntry();
    });
    file.once('end', () => resolve(entries));
    file.once('error', reject);
    file.readEntry();
  });
}

async function readEntry(file: ZipFile, entry: Entry, context: string): Promise<Buffer> {
  const raw = entry.compressionMethod === 8;
  if (!raw && entry.compressionMethod !== 0) {
    throw new DataValidationError(`${context}: member ${entry.fileName} uses compression method ${entry.compressionMethod}; expected deflate (8) or stored (0)`, { context });
  }
  const stream = await new Promise<NodeJS.ReadableStream>((resolve, reject) => {
    file.openReadStream(entry, { decompress: false }, (error, opened) => (error || !opened ? reject(error) : resolve(opened)));
  });
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  const stored = Buffer.concat(chunks, entry.compressedSize);
  const bytes = raw ? inflateMember(stored, entry, context) : stored;
  if (bytes.length !== entry.uncompressedSize) {
    throw new DataValidationError(`${context}: member ${entry.fileName} inflates to ${bytes.length} bytes, the archive says ${entry.uncompressedSize}`, { context });
  }
  return bytes;
}

/**
 * Inflates into one buffer of the recorded size (knownSizeOutput). With zlib's default 16 KiB chunks, a month of 1m
 * CSV was ~400 chunks concatenated at the end, twice its size at once: a cold six-year fill peaked
 * 20-30 MiB higher (bench/RESULTS-six-years.md; `klines get` cold 230-232 MiB, 194-208 with this).
 * Inflating past the recorded size stops there (`maxOutputLength`): DataValidationError.
 */
function inflateMember(stored: Buffer, entry: Entry, context: string): Buffer {
  const recorded = entry.uncompressedSize;
  try {
    return inflateRawSync(stored, knownSizeOutput(recorded, MAX_INFLATE_CHUNK_BYTES));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_BUFFER_TOO_LARGE') throw error;
    throw new DataValidationError(`${context}: member ${entry.fileName} inflates to more than the ${recorded} bytes the archive says`, { context });
  }
}
