/**
 * A separate process that appends real rows to an fs kline cache, for the cross-process tests
 * in test/integration/kline-cache.test.ts. Run as
 * `node --import tsx test/helpers/cache-append-worker.ts '<json WorkerJob>'`.
 * It writes `{syncDir}/ready-{name}`, waits for `{syncDir}/go` so that several workers start
 * together, appends each chunk (the CSV rows with open_time in it, answered = the chunk), and
 * prints `done`. With `killBeforeIndexPut` it SIGKILLs itself on its first index write, i.e.
 * after the part object is written and before any coverage is claimed.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Dataset } from '../../lib/domain/kline.ts';
import type { Range } from '../../lib/domain/ranges.ts';
import { columnsInRange } from '../../lib/domain/kline-columns.ts';
import { parseVisionCsvColumns } from '../../lib/sources/vision-csv.ts';
import { createFsCoverageIndex } from '../../lib/store/fs-coverage-index.ts';
import { createFsObjectStore } from '../../lib/store/fs-object-store.ts';
import { createKlineCache } from '../../lib/store/kline-cache.ts';
import type { CoverageIndex } from '../../lib/store/types.ts';

/** What one worker does. */
export interface WorkerJob {
  readonly name: string;
  readonly rootDir: string;
  readonly syncDir: string;
  readonly dataset: Dataset;
  readonly csvFile: string;
  readonly chunks: readonly Range[];
  readonly killBeforeIndexPut?: boolean;
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '') as WorkerJob;
  const columns = parseVisionCsvColumns(readFileSync(job.csvFile, 'utf8'), job.csvFile);
  const realIndex = createFsCoverageIndex(job.rootDir);
  const index: CoverageIndex = job.killBeforeIndexPut
    ? { ...realIndex, put: async () => { process.kill(process.pid, 'SIGKILL'); } }
    : realIndex;
  const cache = createKlineCache({ store: createFsObjectStore(job.rootDir), index });

  writeFileSync(path.join(job.syncDir, `ready-${job.name}`), '');
  while (!existsSync(path.join(job.syncDir, 'go'))) await new Promise((resolve) => setTimeout(resolve, 5));

  for (const chunk of job.chunks) {
    await cache.appendColumns(job.dataset, columnsInRange(columns, chunk.startMs, chunk.endMs), [chunk], ['vision']);
  }
  process.stdout.write('done\n');
}

await main();
