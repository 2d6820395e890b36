/**
 * Reads the one `.csv` member of a Vision zip with yauzl, which inflates with Node's native zlib
 * (measured ~2.1M rows/s of 1m CSV here, against ~0.7M for fflate's JS inflate: bench/RESULTS.md).
 * Vision archives hold exactly one deflated member named `<SYMBOL>-<interval>-<date>.csv`
 * (SOURCES.md, "Zip archives").
 */
import { promisify } from 'node:util';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { DataValidationError } from '../domain/errors.ts';

const openZip = promisify<Buffer, yauzl.Options, ZipFile>(yauzl.fromBuffer);

/**
 * The text (latin1: the CSVs are ASCII) of the single `.csv` member of `zip`. `context` names
 * the file in errors. Throws DataValidationError when the bytes are not a readable zip, hold
 * other than exactly one `.csv` member, or the member does not inflate to its recorded size.
 */
export async function readSingleCsvMember(zip: Buffer, context: string): Promise<string> {
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
    return (await readEntry(file, csv[0]!)).toString('latin1');
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

async function readEntry(file: ZipFile, entry: Entry): Promise<Buffer> {
  const stream = await promisify(file.openReadStream.bind(file))(entry);
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks, entry.uncompressedSize);
}
