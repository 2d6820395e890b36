/**
 * Conditional writes of coverage records (issue 8, item 4: no self-inflicted conflicts).
 * - Within one process, writes to one record are queued (one at a time per dataset period), so a
 *   process filling many pieces of a period (17 daily files of one month, REST pages) never
 *   races itself: before this, 60 concurrent appends to one period in one process failed with
 *   "is at version 39, the write expected 38" after exhausting their retries.
 * - A conflict with another worker (process, Lambda) re-reads the record and retries, with
 *   bounded exponential backoff and jitter (conflictBackoffMs).
 */
import { ConflictError } from '../domain/errors.ts';
import { sleep } from '../domain/sleep.ts';
import type { CoverageIndex, PeriodRecord } from './types.ts';

/** Conditional updates tried at most this often before the ConflictError is thrown (about 6 s of backoff in all). */
export const MAX_UPDATE_TRIES = 12;

/**
 * Wait before retry `attempt` (1-based) after a lost race, in ms: half of min(1000, 20 × 2^(attempt−1))
 * plus a random share of the other half ("equal jitter"), so racing workers spread out and the
 * total stays bounded.
 */
export function conflictBackoffMs(attempt: number, random: () => number = Math.random): number {
  const capMs = Math.min(1_000, 20 * 2 ** (attempt - 1));
  return capMs / 2 + random() * (capMs / 2);
}

/** A change to a record: the next record (without version), or undefined for "nothing to write". */
export type RecordChange = (current: PeriodRecord | undefined) => Omit<PeriodRecord, 'version'> | undefined;

/** Writes coverage records of one index. */
export interface RecordWriter {
  /** The record of a period, or undefined (one index query). */
  read(datasetId: string, period: string): Promise<PeriodRecord | undefined>;
  /**
   * Runs `action` while no other write of this process to the record runs (a per-record queue).
   * Must not be nested for the same record (it would wait for itself).
   */
  exclusive<T>(datasetId: string, period: string, action: () => Promise<T>): Promise<T>;
  /**
   * Re-reads the record, applies `change` and stores it conditionally, inside `exclusive`;
   * retries lost races (ConflictError) up to MAX_UPDATE_TRIES with conflictBackoffMs. Returns the
   * record stored (or the current one when `change` returned undefined). Throws the last
   * ConflictError when every try lost, and StoreError from the index.
   */
  update(datasetId: string, period: string, change: RecordChange): Promise<PeriodRecord | undefined>;
}

/** Builds the writer; its queues are per writer, so build one per process (per cache). */
export function createRecordWriter(index: Pick<CoverageIndex, 'query' | 'put'>): RecordWriter {
  const queues = new Map<string, Promise<unknown>>();
  const read = async (datasetId: string, period: string): Promise<PeriodRecord | undefined> => (await index.query(datasetId, period, period))[0];

  const exclusive = <T>(datasetId: string, period: string, action: () => Promise<T>): Promise<T> => {
    const key = `${datasetId}\u0000${period}`;
    const run = (queues.get(key) ?? Promise.resolve()).then(action);
    const tail = run.catch(() => undefined);
    queues.set(key, tail);
    void tail.then(() => {
      if (queues.get(key) === tail) queues.delete(key);
    });
    return run;
  };

  const update = (datasetId: string, period: string, change: RecordChange): Promise<PeriodRecord | undefined> =>
    exclusive(datasetId, period, async () => {
      for (let attempt = 1; ; attempt++) {
        const current = await read(datasetId, period);
        const next = change(current);
        if (!next) return current;
        const record: PeriodRecord = { ...next, version: (current?.version ?? 0) + 1 };
        try {
          await index.put(record);
          return record;
        } catch (error) {
          if (!(error instanceof ConflictError) || attempt >= MAX_UPDATE_TRIES) throw error;
          await sleep(conflictBackoffMs(attempt));
        }
      }
    });

  return { read, exclusive, update };
}
