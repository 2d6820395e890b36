/**
 * `start` and `stop` for the demo servers (fake Binance, local S3/DynamoDB, the dev server), so a
 * README command returns only once its server answers and prints the exports to use it:
 *
 *   eval "$(npm run -s fake-binance -- start)"   # waits until it listens, prints `export ...` lines
 *   npm run -s fake-binance -- stop
 *
 * `start` runs the same script in the foreground form, detached (its own process group, its output
 * in `.cache/background/{name}.log`), and waits for the child's IPC message `{ exports }` that
 * announceReady sends once it serves; no fixed sleep, and at most `timeoutMs`. The child's process
 * id is kept in `.cache/background/{name}.pid` for `stop`.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const STATE_DIR = resolve(import.meta.dirname, '../.cache/background');
const DEFAULT_START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;

/**
 * Called by a server script once it serves: sends the `export NAME=value` lines to a `start`
 * waiting on IPC (then lets go of the channel), or prints them on stdout in the foreground form.
 */
export function announceReady(exports: Record<string, string>): void {
  const lines = Object.entries(exports).map(([name, value]) => `export ${name}=${value}`);
  if (process.send) {
    process.send({ exports: lines }, () => process.disconnect());
  } else {
    process.stdout.write(`${lines.join('\n')}\n`);
  }
}

/**
 * Starts `script` (a path relative to the repository) with `args` in the background and prints
 * its exports on stdout once it announces it is ready. Throws (with the end of its log) when it
 * exits or stays silent for `timeoutMs`, or when one of that name is still running.
 */
export async function startInBackground(name: string, script: string, args: readonly string[], timeoutMs = DEFAULT_START_TIMEOUT_MS): Promise<void> {
  const running = runningPid(name);
  if (running !== undefined) throw new Error(`${name}: already running (pid ${running}); stop it first with \`npm run -s ${name} -- stop\``);
  mkdirSync(STATE_DIR, { recursive: true });
  const logPath = join(STATE_DIR, `${name}.log`);
  const log = openSync(logPath, 'w');
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(import.meta.dirname, '..', script), ...args], {
    detached: true, stdio: ['ignore', log, log, 'ipc'],
  });
  closeSync(log);
  try {
    const exports = await new Promise<string[]>((resolveReady, reject) => {
      const timer = setTimeout(() => reject(new Error(`did not answer within ${timeoutMs / 1000} s`)), timeoutMs);
      child.once('message', (message: { exports?: string[] }) => { clearTimeout(timer); resolveReady(message.exports ?? []); });
      child.once('exit', (code, signal) => { clearTimeout(timer); reject(new Error(`exited (${signal ?? code}) before it was ready`)); });
      child.once('error', (error) => { clearTimeout(timer); reject(error); });
    });
    writeFileSync(join(STATE_DIR, `${name}.pid`), String(child.pid));
    process.stdout.write(`${exports.join('\n')}\n`);
    process.stderr.write(`${name}: running in the background (pid ${child.pid}, log ${logPath}); stop it with \`npm run -s ${name} -- stop\`\n`);
  } catch (error) {
    if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
    const tail = readFileSync(logPath, 'utf8').split('\n').slice(-20).join('\n');
    throw new Error(`${name}: ${(error as Error).message}; its log (${logPath}) ends with:\n${tail}`);
  } finally {
    if (child.connected) child.disconnect();
    child.unref();
  }
}

/** Stops the background server `name` (its whole process group), waiting at most 10 s before SIGKILL. */
export async function stopInBackground(name: string): Promise<void> {
  const pid = runningPid(name);
  rmSync(join(STATE_DIR, `${name}.pid`), { force: true });
  if (pid === undefined) {
    process.stderr.write(`${name}: not running\n`);
    return;
  }
  await stopProcessGroup(pid);
  process.stderr.write(`${name}: stopped\n`);
}

/** SIGTERM to the process group `pid` leads, then SIGKILL if its leader still lives after 10 s. */
export async function stopProcessGroup(pid: number): Promise<void> {
  killGroup(pid, 'SIGTERM');
  const deadlineMs = Date.now() + STOP_TIMEOUT_MS;
  while (isAlive(pid) && Date.now() < deadlineMs) await sleep(50);
  if (isAlive(pid)) killGroup(pid, 'SIGKILL');
}

/**
 * The command-line form every server script shares: `start [args]` and `stop` as above; anything
 * else is the foreground form, left to the caller (returns false).
 */
export async function runBackgroundCommand(name: string, script: string, argv: readonly string[]): Promise<boolean> {
  if (argv[0] !== 'start' && argv[0] !== 'stop') return false;
  try {
    if (argv[0] === 'start') await startInBackground(name, script, argv.slice(1));
    else await stopInBackground(name);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exitCode = 1;
  }
  return true;
}

function runningPid(name: string): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(join(STATE_DIR, `${name}.pid`), 'utf8'));
  } catch {
    return undefined;
  }
  return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Sends `signal` to the process group `pid` leads; a group already gone is fine. */
export function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}
