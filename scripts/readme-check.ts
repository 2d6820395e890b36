/**
 * `npm run -s readme-check [-- --dir DIR]`: runs every `sh` block of README.md in order, as a new
 * user would in one terminal, and fails naming the first block that breaks (issue 7, item 3).
 *
 * - Without `--dir` it first clones this checkout's HEAD into an empty temporary folder (nothing
 *   beside it) and works there, so `npm ci` in the README installs a fresh tree; the folder is
 *   removed on success and kept (its path printed) on failure.
 * - Each block runs in `bash` with `set -eo pipefail`, in its own process group; variables it
 *   exports carry over to the next block (`export -p`). The environment is a user's: no npm
 *   script variables, no node_modules/.bin on PATH, no KLINES_/BINANCE_ settings. npm installs
 *   prefer the local npm cache (`npm_config_prefer_offline`).
 * - Directives beside blocks (scripts/readme-blocks.ts) skip a block with a reason, require text
 *   in its output, or run a SQL block in DuckDB and check the rows it reads.
 * - Every wait is bounded: a block gets BLOCK_TIMEOUT_MS (INSTALL_TIMEOUT_MS with `npm ci`), then
 *   its process group is killed. Servers the blocks left in the background are stopped at the end.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { killGroup, stopProcessGroup } from './background.ts';
import { parseReadmeBlocks, type ReadmeBlock } from './readme-blocks.ts';
import { checkParquetRows } from './readme-sql.ts';

const BLOCK_TIMEOUT_MS = 300_000;
const INSTALL_TIMEOUT_MS = 600_000;
const REPO = resolve(import.meta.dirname, '..');

/** What one block printed (stdout and stderr interleaved) and how it ended. */
interface BlockRun {
  readonly code: number | null;
  readonly output: string;
  readonly timedOut: boolean;
}

/** A user's environment: the caller's minus npm's script variables, project settings and node_modules/.bin. */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^(npm_|INIT_CWD$|NODE_OPTIONS$|NODE_PATH$|KLINES_|BINANCE_|AWS_ENDPOINT_URL|VITEST)/.test(name)) continue;
    env[name] = value;
  }
  env.PATH = (process.env.PATH ?? '').split(':').filter((dir) => !dir.includes('node_modules/.bin') && !dir.includes('node-gyp-bin')).join(':');
  return { ...env, npm_config_prefer_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };
}

/** Runs one block in `dir`, carrying exported variables through `envFile`. */
async function runBlock(block: ReadmeBlock, dir: string, envFile: string): Promise<BlockRun> {
  const script = `set -eo pipefail\n[ -f '${envFile}' ] && . '${envFile}'\n${block.code}\nexport -p > '${envFile}'\n`;
  const child = spawn('bash', ['-c', script], { cwd: dir, env: userEnv(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer): void => { output += chunk.toString(); };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const timeoutMs = /\bnpm ci\b/.test(block.code) ? INSTALL_TIMEOUT_MS : BLOCK_TIMEOUT_MS;
  let timedOut = false;
  const timer = setTimeout(() => { timedOut = true; killGroup(child.pid!, 'SIGKILL'); }, timeoutMs);
  const code = await new Promise<number | null>((resolveCode) => child.once('close', (exitCode) => resolveCode(exitCode)));
  clearTimeout(timer);
  killGroup(child.pid!, 'SIGKILL'); // anything the block left running in its own group
  return { code, output, timedOut };
}

/** Stops what the blocks left in the background (scripts/background.ts pid files), at most 10 s each. */
async function stopBackgroundServers(dir: string): Promise<void> {
  const stateDir = join(dir, '.cache/background');
  let names: string[] = [];
  try {
    names = readdirSync(stateDir).filter((name) => name.endsWith('.pid'));
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(readFileSync(join(stateDir, name), 'utf8'));
    process.stderr.write(`readme-check: stopping ${name.replace(/\.pid$/, '')} left running by the README (pid ${pid})\n`);
    await stopProcessGroup(pid);
    rmSync(join(stateDir, name), { force: true });
  }
}

/** Runs the README's blocks in `dir`; returns the number of the failed block's line, or 0. */
async function checkReadme(dir: string): Promise<number> {
  const blocks = parseReadmeBlocks(readFileSync(join(dir, 'README.md'), 'utf8'));
  const envFile = join(mkdtempSync(join(tmpdir(), 'readme-check-env-')), 'exports.sh');
  let ran = 0;
  try {
    for (const block of blocks) {
      const where = `README.md:${block.line}`;
      if (block.skip !== undefined) {
        process.stderr.write(`readme-check: ${where} (${block.language}) skipped: ${block.skip}\n`);
        continue;
      }
      if (block.language === 'sql' && block.parquetRows) {
        const wrong = await checkParquetRows(block, dir);
        if (wrong) return fail(where, wrong, '');
        process.stderr.write(`readme-check: ${where} (sql) ok in DuckDB: ${block.parquetRows.rows} rows, each once\n`);
        continue;
      }
      if (block.language === 'sql') return fail(where, 'a sql block needs a parquet-rows directive or a skip reason', '');
      if (block.language !== 'sh') continue;
      const startedMs = Date.now();
      const run = await runBlock(block, dir, envFile);
      ran++;
      const seconds = ((Date.now() - startedMs) / 1000).toFixed(1);
      if (run.timedOut) return fail(where, `did not finish within its time limit (${seconds} s)`, run.output);
      if (run.code !== 0) return fail(where, `exited ${run.code}`, run.output);
      const missing = block.expect.filter((text) => !run.output.includes(text));
      if (missing.length > 0) return fail(where, `its output lacks ${missing.map((text) => JSON.stringify(text)).join(', ')}`, run.output);
      process.stderr.write(`readme-check: ${where} (sh) ok in ${seconds} s\n`);
    }
  } finally {
    await stopBackgroundServers(dir);
    rmSync(resolve(envFile, '..'), { recursive: true, force: true });
  }
  if (ran === 0) return fail('README.md', 'no sh block ran', '');
  process.stderr.write(`readme-check: all ${ran} sh blocks of README.md passed\n`);
  return 0;
}

function fail(where: string, why: string, output: string): number {
  process.stderr.write(`readme-check: ${where} FAILED: ${why}\n${output.split('\n').slice(-40).join('\n')}\n`);
  return Number(where.split(':')[1] ?? 1) || 1;
}

/** Clones this checkout's HEAD into an empty temporary folder; returns the clone's path. */
function freshClone(): string {
  const parent = mkdtempSync(join(tmpdir(), 'klines-fresh-clone-'));
  const dir = join(parent, 'klines-cache');
  const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO, encoding: 'utf8' }).trim();
  execFileSync('git', ['clone', '--quiet', REPO, dir], { stdio: 'inherit' });
  process.stderr.write(`readme-check: cloned HEAD ${head} into ${dir} (nothing beside it)\n`);
  writeFileSync(join(parent, 'CLONED-BY-README-CHECK'), `${head}\n`);
  return dir;
}

const { values } = parseArgs({ options: { dir: { type: 'string' } } });
const dir = values.dir === undefined ? freshClone() : resolve(values.dir);
const failedAt = await checkReadme(dir);
if (failedAt !== 0) {
  process.stderr.write(`readme-check: kept ${dir} for a look\n`);
  process.exitCode = 1;
} else if (values.dir === undefined) {
  rmSync(resolve(dir, '..'), { recursive: true, force: true });
}
