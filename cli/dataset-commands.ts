/**
 * The many-dataset commands of `klines` (issue 10): `sync` (fill many datasets), `ls` (what the
 * cache holds) and `symbols` (what Binance lists). Registered by main.ts.
 */
import { Option, type Command } from 'commander';
import { DATA_TYPES } from '../lib/domain/data-types.ts';
import type { LsOptions } from './ls.ts';
import type { SymbolsOptions } from './symbols.ts';
import type { SyncCommandOptions } from './sync.ts';

const MARKETS = ['spot', 'um', 'cm'];

/** Adds `sync`, `ls` and `symbols`; `setExitCode` receives each command's exit code. */
export function addDatasetCommands(program: Command, setExitCode: (code: number) => void): void {
  program.command('sync')
    .description('fill the cache for many datasets (symbols x intervals) in one call; a summary table at the end')
    .addOption(new Option('--market <market>', 'market').choices(MARKETS).default('spot'))
    .option('--symbols <list>', 'comma-separated symbols, e.g. BTCUSDT,ETHUSDT')
    .option('--symbols-regex <regex>', "symbols matching a regular expression (whole name), from exchangeInfo, TRADING only, e.g. '.*USDT$'")
    .option('--intervals <list>', 'comma-separated intervals, e.g. 1m,1h (none with --data-type fundingRate)')
    .option('--start <time>', 'first open_time, ISO-8601 or epoch ms (or --days)')
    .option('--days <n>', 'the last N days up to --end (default: the last closed candle), in place of --start')
    .option('--end <time>', 'last open_time, inclusive (default: the last closed candle)')
    .addOption(new Option('--source <source>', 'upstreams allowed for the gaps').choices(['auto', 'vision', 'rest']).default('auto'))
    .addOption(new Option('--data-type <type>', 'series to fill (all but klines on um and cm only)').choices([...DATA_TYPES]).default('klines'))
    .option('--json', 'print the summary as JSON', false)
    .action(async (options: SyncCommandOptions) => setExitCode(await (await import('./sync.ts')).runSyncCommand(options))); // loaded when run: `klines --help` stays light
  program.command('ls')
    .description('list the cached datasets: first/last open_time, rows, bytes, sources, holes (from the coverage index alone)')
    .addOption(new Option('--market <market>', 'only this market').choices(MARKETS))
    .option('--symbol <symbol>', 'only this symbol')
    .option('--interval <interval>', 'only this interval')
    .addOption(new Option('--data-type <type>', 'only this series').choices([...DATA_TYPES]))
    .option('--json', 'print as JSON', false)
    .action(async (options: LsOptions) => setExitCode(await (await import('./ls.ts')).runLs(options)));
  program.command('symbols')
    .description("a market's symbols from Binance's exchangeInfo (kept a day): status and onboard date")
    .addOption(new Option('--market <market>', 'market').choices(MARKETS).default('spot'))
    .option('--regex <regex>', 'only symbols whose whole name matches')
    .option('--all', 'include symbols that are not TRADING', false)
    .option('--json', 'print as JSON', false)
    .action(async (options: SymbolsOptions) => setExitCode(await (await import('./symbols.ts')).runSymbols(options)));
}
