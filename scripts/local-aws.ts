/**
 * Runs local S3 (s3rver) and DynamoDB (dynalite) on 127.0.0.1 until killed, for README demos of
 * the shared cache (issue 3; test/helpers/local-aws.ts):
 *
 *   node --import tsx scripts/local-aws.ts [--dir DIR]
 *
 * Prints the five `export AWS_...=...` lines on stdout (so `eval "$(...)"`-style use works) and
 * everything else on stderr. Data lives in a temp folder removed on exit, or in `--dir` (kept).
 * Then point the cache at them with `KLINES_STORE=s3://BUCKET/PREFIX` and
 * `KLINES_INDEX=dynamodb://TABLE`, and run `klines init` to create the bucket and table.
 */
import { parseArgs } from 'node:util';
import { startLocalAws } from '../test/helpers/local-aws.ts';

const { values } = parseArgs({ options: { dir: { type: 'string' } } });
const aws = await startLocalAws({ dataDir: values.dir });
process.stdout.write(`${Object.entries(aws.env).map(([name, value]) => `export ${name}=${value}`).join('\n')}\n`);
process.stderr.write([
  `local-aws: S3 (s3rver) at ${aws.s3Endpoint}, DynamoDB (dynalite) at ${aws.dynamodbEndpoint}`,
  `local-aws: data in ${values.dir ?? 'a temp folder removed on exit'}; Ctrl-C to stop`,
  'local-aws: e.g. export KLINES_STORE=s3://klines-cache/cache KLINES_INDEX=dynamodb://klines-cache && klines init',
  '',
].join('\n'));

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void aws.close().then(() => process.exit(0));
  });
}
