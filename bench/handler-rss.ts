/**
 * The handlers' memory figure (issue 9, "the HTTP and invoke results written to S3 stream"): the
 * bundled child (handler-rss-child.ts) answers six years of 1m in a fresh process under GNU time,
 * with its results location an S3 bucket on a local s3rver started here (so s3rver's memory is
 * not the child's): invoke cold (an empty cache: the fill, then a Parquet result), invoke warm
 * (Parquet), GET /klines warm (CSV, more than the inline limit: by URL), and for scale the same
 * process answering one hour (the bundle's own footprint). Returns the markdown
 * section of RESULTS-six-years.md.
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { ensureBucket } from '../lib/store/aws-setup.ts';
import { startLocalAws } from '../test/helpers/local-aws.ts';
import { timeProcess, type ProcessRun } from './process-time.ts';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
export const HANDLERS_START = '<!-- handlers: written by bench/six-years.ts -->';
export const HANDLERS_END = '<!-- /handlers -->';

/** What the runs need: a temporary folder, the environment of an empty cache and upstream, the range (ISO, inclusive) and its rows. */
export interface HandlerRunsInput {
  readonly tempRoot: string;
  readonly env: Record<string, string>;
  readonly start: string;
  readonly end: string;
  readonly rows: number;
  readonly log: (message: string) => void;
}

/** Runs the three figures and returns their markdown section. Rejects when a run fails or answers other rows. */
export async function handlerRuns(input: HandlerRunsInput): Promise<string> {
  const startLoad = loadNow();
  const script = path.join(input.tempRoot, 'handler-rss-child.mjs');
  await build({
    entryPoints: [path.join(BENCH_DIR, 'handler-rss-child.ts')], outfile: script, bundle: true, platform: 'node', target: 'node24', format: 'esm',
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    logLevel: 'error',
  });
  const aws = await startLocalAws();
  try {
    const bucket = 'klines-bench-results';
    await ensureBucket(aws.makeS3Client(), bucket);
    const env = {
      ...input.env, ...aws.env, KLINES_RESULTS: `s3://${bucket}/results`, POWERTOOLS_LOG_LEVEL: 'ERROR', POWERTOOLS_METRICS_DISABLED: 'true',
    };
    const run = async (kind: 'invoke' | 'http', format: string, range = [input.start, input.end, String(input.rows)]): Promise<ProcessRun & { location: string }> => {
      const timed = await timeProcess(process.execPath, [script, kind, format, ...range], env);
      const report = JSON.parse(timed.stdout.trim().split('\n').at(-1) ?? '{}') as { location?: string };
      if (!report.location?.startsWith(`s3://${bucket}/`) && report.location !== aws.s3Endpoint) throw new Error(`bench: the ${kind} result did not go to S3: ${timed.stdout.slice(-500)}`);
      return { ...timed, location: report.location };
    };
    input.log('invoke cold (Parquet result to S3) ...');
    const cold = await run('invoke', 'parquet');
    input.log('invoke warm (Parquet), GET /klines warm (CSV) ...');
    const warm = await run('invoke', 'parquet');
    const http = await run('http', 'csv');
    // The last hour of the range: 60 candles of 1m (the range ends on a candle's open_time).
    const hour = await run('http', 'parquet', [new Date(Date.parse(input.end) - 59 * 60_000).toISOString(), input.end, '60']);
    return `${HANDLERS_START}
## Handlers: a six-year answer written to S3

On ${new Date().toISOString()}, load average before / after: ${startLoad} / ${loadNow()}. Each handler bundled
(esbuild) and run in a fresh process under GNU time, answering ${input.rows.toLocaleString('en-US')} rows of 1m
into an S3 results location on a local s3rver (multipart upload, 5 MiB parts, 2 in flight); the
cache on local files, its own (empty at the first run).

| run | wall | CPU (user + system) | peak RSS |
|---|---|---|---|
${line('invoke, cold (fill under the deadline, then a Parquet result streamed from the cache)', cold)}
${line('invoke, warm (Parquet result)', warm)}
${line('GET /klines, warm (CSV by presigned URL)', http)}
${line('baseline: GET /klines, one warm hour (60 rows) as Parquet by URL', hour)}
${HANDLERS_END}
`;
  } finally {
    await aws.close();
  }
}

function line(label: string, run: ProcessRun): string {
  return `| ${label} | ${(run.wallMs / 1000).toFixed(1)} s | ${(run.cpuMs / 1000).toFixed(1)} s | ${(run.maxRssKb / 1024).toFixed(0)} MiB |`;
}

function loadNow(): string {
  return os.loadavg().map((l) => l.toFixed(2)).join(', ');
}
