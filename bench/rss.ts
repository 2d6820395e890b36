/**
 * Peak-RSS benchmark: runs rss-child.ts in a fresh Node process (default heap settings) and
 * returns what it printed. The child is first bundled with esbuild into plain JavaScript, as the
 * CLI and the Lambdas ship, so the figure does not include tsx's on-the-fly TypeScript compiler.
 * The upstream server stays in this process, so its memory is not counted in the child's RSS.
 */
import { spawn } from 'node:child_process';
import { build } from 'esbuild';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = path.resolve(BENCH_DIR, '..');

/** What a child reported: peak resident set size in KiB (`process.resourceUsage().maxRSS`). */
export interface ChildRss {
  readonly mode: 'baseline' | 'cold' | 'warm';
  readonly maxRssKb: number;
  readonly rows: number;
  readonly elapsedMs: number;
  readonly stats?: { rowsFromCache: number; rowsFromVision: number; rowsFromRest: number; visionFiles: number; restRequests: number };
}

/**
 * Bundles rss-child.ts and everything it imports into `{outDir}/rss-child.mjs` (ESM, node24;
 * `require` provided for the CommonJS dependencies) and returns that path.
 */
export async function bundleRssChild(outDir: string): Promise<string> {
  const outfile = path.join(outDir, 'rss-child.mjs');
  await build({
    entryPoints: [path.join(BENCH_DIR, 'rss-child.ts')], outfile, bundle: true, platform: 'node', target: 'node24', format: 'esm',
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    logLevel: 'warning',
  });
  return outfile;
}

/** Options of one child run: times are UTC epoch ms, `[startMs, endMs)` the requested range. */
export interface ChildOptions {
  /** The bundled child script (bundleRssChild). */
  readonly script: string;
  readonly mode: ChildRss['mode'];
  readonly cacheDir: string;
  readonly upstreamUrl: string;
  readonly nowMs: number;
  readonly startMs: number;
  readonly endMs: number;
  readonly expectedRows: number;
}

/** Spawns the child and resolves with its report; rejects when it exits non-zero. */
export function runRssChild(options: ChildOptions): Promise<ChildRss> {
  const args = [
    options.script,
    options.mode, options.cacheDir, options.upstreamUrl,
    String(options.nowMs), String(options.startMs), String(options.endMs), String(options.expectedRows),
  ];
  return new Promise((resolve, reject) => {
    // Through a shell that forks node rather than exec'ing it: Linux carries the RSS high-water
    // mark of a forked copy across execve into ru_maxrss, so a direct spawn would report this
    // (large) bench process's RSS, not the child's (measured: 304 MiB vs 39 MiB for a bare node).
    const child = spawn('/bin/sh', ['-c', '"$0" "$@"; exit $?', process.execPath, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => void (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) {
        reject(new Error(`bench: rss-child ${options.mode} exited with ${code}: ${stderr.trim()}`));
        return;
      }
      try {
        resolve(JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as ChildRss);
      } catch {
        reject(new Error(`bench: rss-child ${options.mode} printed no report: ${stdout}${stderr}`));
      }
    });
  });
}
