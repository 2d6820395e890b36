/**
 * The `klines` command (DESIGN.md, Surfaces): `klines get SYMBOL INTERVAL --market spot
 * --start T --end T [--format csv|json|parquet] [--out FILE] [--source auto|vision|rest]
 * [--with-source] [--stats]`, the maintenance commands `init`, `validate`, `repair`, `stats`, and
 * the many-dataset commands `sync`, `ls`, `symbols` (dataset-commands.ts).
 * Exit codes: 0 done, 2 bad input, 1 any other failure (validate: problems found). A KlinesError
 * is printed as `klines: CODE: message` on stderr. A reader that closes stdout early
 * (`klines get … | head`) ends the command quietly with exit 0.
 */
import { createRequire } from 'node:module';
import { Command, CommanderError, Option } from 'commander';
import { KlinesError } from '../lib/domain/errors.ts';
import { DATA_TYPES } from '../lib/domain/data-types.ts';
import type { GetOptions } from './get.ts';
import { addDatasetCommands } from './dataset-commands.ts';
import { addMaintenanceCommands } from './maintenance.ts';

/** Runs the command line `argv` (without node and script) and returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  exitQuietlyOnClosedStdout();
  const program = new Command('klines')
    .description('Binance klines from a local cache that fetches only the gaps (Vision archive first, then REST)')
    .version(packageVersion(), '-V, --version', 'print the version')
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });
  let exitCode = 0;
  program
    .command('get')
    .description('print the closed klines of one dataset over a range (bounds inclusive on open_time)')
    .argument('<symbol>', 'Binance symbol, e.g. BTCUSDT or BTCUSD_PERP')
    .argument('[interval]', 'kline interval: 1s (spot only) 1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w 1M (none for fundingRate)')
    .addOption(new Option('--market <market>', 'market').choices(['spot', 'um', 'cm']).default('spot'))
    .option('--start <time>', 'first open_time, ISO-8601 (2024-01-15, 2024-01-15T10:00:00Z) or epoch ms (or --days)')
    .option('--days <n>', 'the last N days up to --end (default: the last closed candle), in place of --start')
    .option('--end <time>', 'last open_time, inclusive (default: the last closed candle; later values are clamped to it)')
    .addOption(new Option('--format <format>', 'output format').choices(['csv', 'json', 'parquet']).default('csv'))
    .option('--out <file>', 'write to a file instead of stdout (required for parquet)')
    .addOption(new Option('--source <source>', 'upstreams allowed for the gaps').choices(['auto', 'vision', 'rest']).default('auto'))
    .addOption(new Option('--data-type <type>', 'series: klines, or on um/cm markPriceKlines indexPriceKlines premiumIndexKlines fundingRate').choices([...DATA_TYPES]).default('klines'))
    .option('--with-source', 'add a source column: cache, vision or rest', false)
    .addOption(new Option('--time-format <format>', 'open_time/close_time in csv and json: epoch ms or ISO-8601 UTC').choices(['ms', 'iso']).default('ms'))
    .option('--stats', 'print one JSON line of figures on stderr', false)
    .action(async (symbol: string, interval: string | undefined, options: GetOptions) => {
      // Loaded only when run, so `klines --help` does not load the service, its sources or the AWS SDK.
      if (options.dataType === 'fundingRate') {
        exitCode = await (await import('./get-funding.ts')).runGetFunding(symbol, interval, options);
        return;
      }
      const { runGet } = await import('./get.ts');
      exitCode = await runGet(symbol, interval, options);
    });
  addMaintenanceCommands(program, (code) => {
    exitCode = code;
  });
  addDatasetCommands(program, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    return reportError(error);
  }
}

function reportError(error: unknown): number {
  if (error instanceof CommanderError) {
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.exitCode === 0) return 0;
    return 2; // commander already printed what was wrong
  }
  if (error instanceof KlinesError) {
    process.stderr.write(`klines: ${error.code}: ${error.message}\n`);
    return error.code === 'INVALID_INPUT' || error.code === 'UNKNOWN_SYMBOL' ? 2 : 1;
  }
  process.stderr.write(`klines: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return 1;
}

/** The version in package.json, which sits one folder up from both cli/main.ts and the dist/ bundle. */
function packageVersion(): string {
  return (createRequire(import.meta.url)('../package.json') as { version: string }).version;
}

let watchingStdout = false;

/**
 * `klines get … | head`: once the reader has gone, writing more fails with EPIPE. That is the
 * reader's choice, not a failure: end at once with exit 0 (as `seq 1e9 | head` does), with
 * everything fetched so far already stored.
 */
function exitQuietlyOnClosedStdout(): void {
  if (watchingStdout) return;
  watchingStdout = true;
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
}
