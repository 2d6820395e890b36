/**
 * Runs local S3 (s3rver) and DynamoDB (dynalite) on 127.0.0.1 for README demos of the shared cache
 * (issue 3; test/helpers/local-aws.ts):
 *
 *   npm run -s local-aws -- [--dir DIR]                   # foreground, Ctrl-C to stop
 *   eval "$(npm run -s local-aws -- start [--dir DIR])"   # background (scripts/background.ts)
 *   npm run -s local-aws -- stop
 *
 * Prints the five `export AWS_...=...` lines on stdout only once both servers answer a request
 * (HeadBucket, ListTables), and everything else on stderr. Data lives in a temp folder removed on
 * exit, or in `--dir` (kept). Then point the cache at them with `KLINES_STORE=s3://BUCKET/PREFIX`
 * and `KLINES_INDEX=dynamodb://TABLE`, and run `klines init` to create the bucket and table.
 */
import { parseArgs } from 'node:util';
import { startLocalAws } from '../test/helpers/local-aws.ts';
import { announceReady, runBackgroundCommand } from './background.ts';

if (!(await runBackgroundCommand('local-aws', 'scripts/local-aws.ts', process.argv.slice(2)))) await serve();

async function serve(): Promise<void> {
  const { values } = parseArgs({ options: { dir: { type: 'string' } } });
  const aws = await startLocalAws({ dataDir: values.dir });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void aws.close().then(() => process.exit(0));
    });
  }
  // Both answer a signed request (s3rver checks signatures): a bucket that does not exist is a false, not an error.
  await Promise.all([aws.makeS3Client().headBucket('klines-local-aws-probe'), aws.makeDynamoClient().call('ListTables', {})]);
  process.stderr.write([
    `local-aws: S3 (s3rver) at ${aws.s3Endpoint}, DynamoDB (dynalite) at ${aws.dynamodbEndpoint}, both answering`,
    `local-aws: data in ${values.dir ?? 'a temp folder removed on exit'}`,
    'local-aws: e.g. export KLINES_STORE=s3://klines-cache/cache KLINES_INDEX=dynamodb://klines-cache && klines init',
    '',
  ].join('\n'));
  announceReady(aws.env);
}
