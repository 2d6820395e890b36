/**
 * What the kline cache does when its storage misbehaves (issue 8, items 3 and 5):
 * - an object that fails verification on read is never served: its period's coverage and
 *   objects are dropped (the seed docs' repair), and CorruptPeriodError tells the service to
 *   plan the range again, so the answer is still exact;
 * - deleting superseded objects after a commit is best effort: a failure is reported, never
 *   thrown, and the object is left as an orphan for `klines repair --orphans`.
 */
import { StoreError } from '../domain/errors.ts';
import type { RecordWriter } from './record-writer.ts';
import type { ObjectRef, ObjectStore, PeriodRecord } from './types.ts';

/** An object of a period that failed verification (object-verify.ts). */
export interface CorruptObjectEvent {
  readonly datasetId: string;
  readonly period: string;
  readonly key: string;
  /** What was wrong: missing, or size / CRC-32 / sha256 unlike the record. */
  readonly reason: string;
  /** True when this worker dropped the period's coverage (false: another worker had already changed the record). */
  readonly dropped: boolean;
}

/** A superseded object whose delete failed; it stays as an orphan. */
export interface CleanupFailedEvent {
  readonly datasetId: string;
  readonly period: string;
  readonly key: string;
  readonly error: unknown;
}

/**
 * Hooks the cache calls, and awaits, so its owner can count and log (create-service.ts wires
 * them to the statistics and stderr). A hook that throws or rejects is ignored.
 */
export interface KlineCacheEvents {
  readonly onCorruptObject?: ((event: CorruptObjectEvent) => void | Promise<void>) | undefined;
  readonly onCleanupFailed?: ((event: CleanupFailedEvent) => void | Promise<void>) | undefined;
}

/** Calls a hook, awaiting it and ignoring its failure (counting must never fail a request). */
async function notify<E>(hook: ((event: E) => void | Promise<void>) | undefined, event: E): Promise<void> {
  try {
    await hook?.(event);
  } catch {
    // A failed count or log line is not the request's problem.
  }
}

/**
 * Thrown by a cache read that found a corrupt or missing object and dropped its period: nothing
 * from it was served. Asking again plans the period as a gap and fetches it anew
 * (klines-service.ts does so once by itself). `details`: key, datasetId, period, reason.
 */
export class CorruptPeriodError extends StoreError {
  /** `cacheName` begins the message: `kline cache` (the default) or `funding cache`. */
  constructor(event: CorruptObjectEvent, cacheName = 'kline cache') {
    super(`${cacheName}: object ${event.key} of ${event.datasetId} ${event.period} failed verification (${event.reason}); the period was dropped from the cache to be fetched again`, {
      details: { key: event.key, datasetId: event.datasetId, period: event.period, reason: event.reason },
    });
  }
}

/** Times a request is answered again after the cache dropped a corrupt period (one per period found bad at once, in practice). */
export const CORRUPT_RETRIES = 3;

/**
 * Runs `attempt`, and again (at most CORRUPT_RETRIES more times) when it throws
 * CorruptPeriodError: the cache dropped the period, so the next attempt fetches it anew (issue 8,
 * item 3). `mayRetry` tells an attempt whether another would follow such a failure. Other errors,
 * and the last CorruptPeriodError, are thrown.
 */
export async function answerAgainOnCorrupt<T>(attempt: (mayRetry: boolean) => Promise<T>): Promise<T> {
  for (let retries = CORRUPT_RETRIES; ; retries--) {
    try {
      return await attempt(retries > 0);
    } catch (error) {
      if (!(error instanceof CorruptPeriodError) || retries === 0) throw error;
    }
  }
}

/** Every object a record names, canonical first. */
export function refsOf(record: PeriodRecord): ObjectRef[] {
  return record.canonical ? [record.canonical, ...record.parts] : [...record.parts];
}

/**
 * Deletes `keys` after a commit made them unreferenced, one at a time: each delete is tried
 * twice, and a failure is reported through `events.onCleanupFailed`, never thrown (the commit
 * already succeeded; the object is left as an orphan). The failed delete that failed requests of
 * the fleet test was s3rver's: after deleting an object it removes the folder if empty, which
 * races other deletes and puts in that folder (its source: an InternalError when a sibling
 * delete removed the folder first; seen here: a put racing it died with an uncaught ENOENT).
 * One at a time, so this process's deletes never race each other.
 */
export async function deleteSuperseded(
  store: ObjectStore, record: { datasetId: string; period: string }, keys: readonly string[], events: KlineCacheEvents,
): Promise<void> {
  for (const key of keys) {
    try {
      await store.delete(key).catch(() => store.delete(key));
    } catch (error) {
      await notify(events.onCleanupFailed, { datasetId: record.datasetId, period: record.period, key, error });
    }
  }
}

/**
 * Drops a period whose object `bad.key` failed verification: a conditional update to no
 * coverage and no objects, only while the record still names that same object (another worker
 * may have repaired it meanwhile), then the old objects and the file at the canonical key are
 * deleted (best effort: a later compaction must not merge them back). Reports the event and
 * returns the error to throw.
 */
export async function dropCorruptPeriod(
  writer: RecordWriter, store: ObjectStore, record: PeriodRecord, bad: { key: string; reason: string }, canonicalKey: string, events: KlineCacheEvents,
  cacheName?: string,
): Promise<CorruptPeriodError> {
  const badRef = refsOf(record).find((ref) => ref.key === bad.key);
  let dropped: PeriodRecord | undefined;
  await writer.update(record.datasetId, record.period, (current) => {
    const stillNamed = current !== undefined && refsOf(current).some((ref) => ref.key === bad.key && ref.sha256 === badRef?.sha256);
    if (!stillNamed) return undefined;
    dropped = current;
    return { ...current, covered: [], parts: [], canonical: undefined };
  });
  if (dropped) await deleteSuperseded(store, dropped, [...new Set([...refsOf(dropped).map((ref) => ref.key), canonicalKey])], events);
  const event: CorruptObjectEvent = { datasetId: record.datasetId, period: record.period, key: bad.key, reason: bad.reason, dropped: dropped !== undefined };
  await notify(events.onCorruptObject, event);
  return new CorruptPeriodError(event, cacheName);
}
