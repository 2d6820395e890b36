/**
 * The maintenance commands of `klines` (issue 3, items 4 and 7): `init`, `validate`, `repair`,
 * `stats`. Each works on the configured cache: local files, or S3 and DynamoDB.
 */
import type { Command } from 'commander';
import { loadConfig } from '../lib/config.ts';
import { createCacheHandles, createServiceFromConfig } from '../lib/create-service.ts';
import { closedEndMs } from '../lib/domain/intervals.ts';
import { parseDatasetId } from '../lib/service/cache-layout.ts';
import { runInit } from './init.ts';
import { runRepair } from './repair.ts';
import { runStats } from './stats.ts';
import { runValidate } from './validate.ts';

/** Adds the maintenance commands; `setExitCode` receives each command's exit code. */
export function addMaintenanceCommands(program: Command, setExitCode: (code: number) => void): void {
  const io = { stdout: process.stdout, stderr: process.stderr };
  program.command('init')
    .description('create the S3 bucket and DynamoDB table (or the local cache folder) when missing')
    .action(async () => {
      const config = loadConfig();
      setExitCode(await runInit(config, createCacheHandles(config), process.stdout));
    });
  program.command('validate')
    .description('check every indexed object (exists, sha256, rows, order, duplicates, coverage) and list orphans')
    .option('--dataset <id>', 'only this dataset, e.g. binance/spot/klines/BTCUSDT/1m')
    .option('--json', 'print the report as JSON', false)
    .action(async (options: { dataset?: string; json: boolean }) => {
      const handles = createCacheHandles(loadConfig());
      setExitCode(await runValidate({ ...handles, ...io, datasetId: options.dataset, json: options.json }));
    });
  program.command('repair')
    .description('drop the coverage of bad periods and fetch them again; optionally delete old orphans')
    .option('--dataset <id>', 'only this dataset')
    .option('--orphans', 'also delete unreferenced objects older than an hour', false)
    .option('--dry-run', 'only print what would be done', false)
    .option('--no-refetch', 'leave dropped periods for the next request to fetch')
    .option('--json', 'print the result as JSON', false)
    .action(async (options: { dataset?: string; orphans: boolean; dryRun: boolean; refetch: boolean; json: boolean }) => {
      const config = loadConfig();
      const handles = createCacheHandles(config);
      const service = createServiceFromConfig(config, handles);
      const nowMs = config.nowMs ?? Date.now();
      const refetch = options.refetch ? async (period: { datasetId: string; range: { startMs: number; endMs: number } }) => {
        const dataset = parseDatasetId(period.datasetId);
        const endMs = Math.min(period.range.endMs, closedEndMs(nowMs, dataset.interval));
        if (endMs > period.range.startMs) await service.getKlines({ dataset, range: { startMs: period.range.startMs, endMs } });
      } : undefined;
      setExitCode(await runRepair({ ...handles, ...io, datasetId: options.dataset, orphans: options.orphans, dryRun: options.dryRun, json: options.json, refetch }));
    });
  program.command('stats')
    .description('cache statistics per dataset: hits, misses, errors, upstream requests and weight, stored periods')
    .option('--dataset <id>', 'only this dataset')
    .option('--json', 'print as JSON', false)
    .action(async (options: { dataset?: string; json: boolean }) => {
      const handles = createCacheHandles(loadConfig());
      setExitCode(await runStats({ ...handles, ...io, datasetId: options.dataset, json: options.json }));
    });
}
