/**
 * Child process of the peak-RSS benchmark (bundled and started by rss.ts, one fresh process per figure):
 *
 *   node rss-child.mjs <baseline|cold|warm> <cacheDir> <upstreamUrl> <nowMs> <startMs> <endMs> <expectedRows>
 *
 * Builds the service as the CLI does (bench-service.ts), streams the answer for BENCHUSDT 1m
 * spot over `[startMs, endMs)` period by period (none for `baseline`) and writes it as CSV the
 * way `klines get` does (writeCsv of the stream; here into a byte counter instead of stdout),
 * then reads `process.resourceUsage().maxRSS` and prints one JSON line on stdout:
 * `{ mode, maxRssKb, rows, csvBytes, elapsedMs, stats }`.
 */
import { writeCsv } from '../lib/service/format.ts';
import { createBenchStreamer } from './bench-service.ts';

const [mode, cacheDir, url, nowText, startText, endText, expectedText] = process.argv.slice(2);
if (!mode || !cacheDir || !url || !nowText || !startText || !endText || !expectedText || !['baseline', 'cold', 'warm'].includes(mode)) {
  throw new Error('usage: rss-child.ts <baseline|cold|warm> <cacheDir> <upstreamUrl> <nowMs> <startMs> <endMs> <expectedRows>');
}
const stream = createBenchStreamer(cacheDir, url, Number(nowText));
let rows = 0;
let csvBytes = 0;
let elapsedMs = 0;
let stats: unknown;
let answer: unknown;
if (mode !== 'baseline') {
  const startedMs = performance.now();
  const result = stream({
    dataset: { market: 'spot', symbol: 'BENCHUSDT', interval: '1m' },
    range: { startMs: Number(startText), endMs: Number(endText) },
  });
  await writeCsv(result, false, (chunk) => {
    csvBytes += chunk.length;
  });
  elapsedMs = performance.now() - startedMs;
  rows = result.rows;
  stats = result.stats;
  answer = result;
  if (rows !== Number(expectedText)) throw new Error(`rss-child: ${mode} read ${rows} rows, expected ${expectedText}`);
}
const maxRssKb = process.resourceUsage().maxRSS;
process.stdout.write(`${JSON.stringify({ mode, maxRssKb, rows, csvBytes, elapsedMs, stats, kept: answer !== undefined })}\n`);
