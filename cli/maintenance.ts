/**
 * The maintenance commands of `klines` (issue 3, items 4 and 7): `init`, `validate`, `repair`,
 * `stats`. Each works on the configured cache: local files, or S3 and DynamoDB. Their code is
 * imported when a command runs, so defining the commands (and `klines --help`) loads none of it.
 */
import type { Command } from 'commander';

/** Adds the maintenance commands; `setExitCode` receives each command's exit code. */
export function addMaintenanceCommands(program: Command, setExitCode: (code: number) => void): void {
  const io = { stdout: process.stdout, stderr: process.stderr };
  program.command('init')
    .description('create the S3 bucket and DynamoDB table (or the local cache folder) when missing')
    .action(async () => {
      const [{ loadConfig }, { createCacheHandles }, { runInit }] = await Promise.all([import('../lib/config.ts'), import('../lib/create-service.ts'), import('./init.ts')]);
      const config = loadConfig();
      setExitCode(await runInit(config, createCacheHandles(config), process.stdout));
    });
  program.command('validate')
    .description('check every indexed object (exists, sha256, rows, order, duplicates, coverage) and list orphans')
    .option('--dataset <id>', 'only this dataset, e.g. binance/spot/klines/BTCUSDT/1m')
    .option('--json', 'print the report as JSON', false)
    .action(async (options: { dataset?: string; json: boolean }) => {
      const [{ loadConfig }, { openCacheHandles }, { runValidate }] = await Promise.all([import('../lib/config.ts'), import('../lib/open-cache-handles.ts'), import('./validate.ts')]);
      const handles = await openCacheHandles(loadConfig());
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
      const [{ loadConfig }, { openCacheHandles }, { buildService }, { buildFundingService }, { runRepair }, { parseDatasetId, parseFundingDatasetId }, { closedEndMs }] = await Promise.all([
        import('../lib/config.ts'), import('../lib/open-cache-handles.ts'), import('../lib/open-service.ts'), import('../lib/open-funding.ts'), import('./repair.ts'),
        import('../lib/service/cache-layout.ts'), import('../lib/domain/intervals.ts'),
      ]);
      const config = loadConfig();
      const handles = await openCacheHandles(config);
      const service = buildService(config, handles);
      const fundingService = buildFundingService(config, handles);
      const nowMs = config.nowMs ?? Date.now();
      const refetch = options.refetch ? async (period: { datasetId: string; range: { startMs: number; endMs: number } }) => {
        const funding = parseFundingDatasetId(period.datasetId);
        if (funding) {
          // Events up to now only: the funding service clips the range itself.
          await fundingService.getFundingRates({ dataset: funding, range: period.range, fillOnly: true });
          return;
        }
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
      const [{ loadConfig }, { openCacheHandles }, { runStats }] = await Promise.all([import('../lib/config.ts'), import('../lib/open-cache-handles.ts'), import('./stats.ts')]);
      const handles = await openCacheHandles(loadConfig());
      setExitCode(await runStats({ ...handles, ...io, datasetId: options.dataset, json: options.json }));
    });
}
