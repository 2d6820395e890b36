/**
 * Child of the handlers' memory figure (bench/handler-rss.ts; bundled, one fresh process per run):
 *
 *   node handler-rss-child.mjs <invoke|http> <csv|json|parquet> <start> <end> <expectedRows>
 *
 * Loads one Lambda handler as a container would (its environment, set by the parent, names the
 * cache, the clock, the upstream and an S3 results location on the local s3rver), answers one
 * BENCHUSDT 1m spot request for `[start, end]` (the invoke with a 15 min budget, GET /klines with
 * API Gateway's 30 s), checks that the result names `expectedRows` rows and went to S3, and prints
 * one JSON line `{ kind, format, rows, location, maxRssKb }` (maxRSS of this process).
 */
import { httpApiEvent, lambdaContext } from '../test/helpers/api-gateway.ts';

const [kind, format, start, end, expectedText] = process.argv.slice(2);
if (!kind || !format || !start || !end || !expectedText || !['invoke', 'http'].includes(kind)) {
  throw new Error('usage: handler-rss-child.ts <invoke|http> <csv|json|parquet> <start> <end> <expectedRows>');
}
type Handler = (event: unknown, context: unknown) => Promise<any>;
const query = { market: 'spot', symbol: 'BENCHUSDT', interval: '1m', start, end };
let rows: number;
let location: string;
if (kind === 'invoke') {
  const { handler } = (await import('../functions/invoke-get-klines.ts')) as unknown as { handler: Handler };
  const result = await handler(query, lambdaContext('klines-invoke-get-klines', 900_000));
  if (!result.ok || result.accepted) throw new Error(`handler-rss-child: invoke answered ${JSON.stringify(result).slice(0, 500)}`);
  rows = result.count;
  location = result.uri;
} else {
  const { handler } = (await import('../functions/http-get-klines.ts')) as unknown as { handler: Handler };
  const response = await handler(httpApiEvent('/klines', { ...query, format }), lambdaContext('klines-http-get-klines', 30_000));
  if (response.statusCode !== 200) throw new Error(`handler-rss-child: GET /klines answered ${response.statusCode} ${String(response.body).slice(0, 500)}`);
  const body = JSON.parse(response.body);
  rows = body.rows;
  location = new URL(body.url).origin;
}
if (rows !== Number(expectedText)) throw new Error(`handler-rss-child: ${kind} answered ${rows} rows, expected ${expectedText}`);
process.stdout.write(`${JSON.stringify({ kind, format, rows, location, maxRssKb: process.resourceUsage().maxRSS })}\n`);
