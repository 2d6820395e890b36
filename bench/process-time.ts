/**
 * Runs a command in a fresh process under GNU time (`/usr/bin/time -f`), through `/bin/sh` so the
 * bench's own RSS is not inherited into the child's high-water mark (rss.ts), and reports its
 * wall time, CPU time (user + system) and maximum resident set. Nothing is contacted but what
 * the command itself is pointed at (127.0.0.1 only in the bench).
 */
import { spawn } from 'node:child_process';

/** One process run. Times in ms, RSS in KiB (GNU time's %M). */
export interface ProcessRun {
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly maxRssKb: number;
  readonly stdout: string;
}

const MARK = '@@time@@';

/** Runs `command` with `args` and `env` (added to PATH); rejects with its stderr when it exits non-zero. */
export function timeProcess(command: string, args: readonly string[], env: Record<string, string> = {}, cwd?: string): Promise<ProcessRun> {
  const format = `${MARK} %e %U %S %M`;
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', '/usr/bin/time -f "$0" "$@"', format, command, ...args], {
      cwd, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => void (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = stderr.split('\n').reverse().find((l) => l.startsWith(MARK));
      if (code !== 0 || !line) {
        reject(new Error(`bench: ${command} ${args.join(' ').slice(0, 200)} exited with ${code}: ${stderr.slice(-2000)}`));
        return;
      }
      const [wall, user, system, rss] = line.slice(MARK.length).trim().split(/\s+/).map(Number);
      resolve({ wallMs: wall! * 1000, cpuMs: (user! + system!) * 1000, maxRssKb: rss!, stdout });
    });
  });
}

/** The median by nearest rank of `values`. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(sorted.length / 2) - 1)] ?? Number.NaN;
}
