/**
 * Real local AWS servers for tests and demos (issue 3), started from npm packages as child
 * processes bound to 127.0.0.1 on free ports, no Docker:
 * - S3: `s3rver`, run with `--openssl-legacy-provider` (without it, paged listings fail: it signs
 *   continuation tokens with a cipher OpenSSL 3 only has in its legacy provider);
 * - DynamoDB: `dynalite`, backed by LevelDB in a temp folder.
 * Each child exits when its stdin closes, so even a test process killed with SIGKILL leaves no
 * server behind; `close()` and the test process's exit also kill them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type { AwsCredentials } from '../../lib/store/aws-http.ts';
import { createDynamoDbClient, type DynamoDbClient } from '../../lib/store/dynamodb-api.ts';
import { createS3Client, type S3Client } from '../../lib/store/s3-api.ts';

/** The two running servers and how to reach them. */
export interface LocalAws {
  /** `http://127.0.0.1:{port}` of s3rver. */
  readonly s3Endpoint: string;
  /** `http://127.0.0.1:{port}` of dynalite. */
  readonly dynamodbEndpoint: string;
  readonly region: string;
  /** s3rver's fixed credentials (it checks signatures); dynalite accepts any. */
  readonly credentials: AwsCredentials;
  /** AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_DYNAMODB, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY. */
  readonly env: Record<string, string>;
  /** An S3 client for s3rver (path style); `fetch` wraps the one it sends with (failure injection). */
  makeS3Client(fetch?: typeof globalThis.fetch): S3Client;
  /** A DynamoDB client for dynalite; `fetch` wraps the one it sends with (failure injection). */
  makeDynamoClient(fetch?: typeof globalThis.fetch): DynamoDbClient;
  /** Stops both servers and removes their data (unless `dataDir` was given). */
  close(): Promise<void>;
}

/** Options: `dataDir` keeps the servers' data there across runs (default: a temp folder removed on close). */
export interface LocalAwsOptions {
  readonly dataDir?: string | undefined;
}

const STARTUP_TIMEOUT_MS = 20_000;
const REGION = 'us-east-1';
const CREDENTIALS: AwsCredentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

/** Both children: print `{"port":N}` once listening, exit when stdin closes. */
const EXIT_WITH_PARENT = "process.stdin.on('end', () => process.exit(0)); process.stdin.on('error', () => process.exit(0)); process.stdin.resume();";
const S3RVER_MAIN = `${EXIT_WITH_PARENT}
const S3rver = require(process.env.LOCAL_AWS_MODULE);
new S3rver({ address: '127.0.0.1', port: 0, directory: process.env.LOCAL_AWS_DIR, silent: true }).run()
  .then((address) => process.stdout.write(JSON.stringify({ port: address.port }) + '\\n'))
  .catch((error) => { console.error(error); process.exit(1); });`;
const DYNALITE_MAIN = `${EXIT_WITH_PARENT}
const dynalite = require(process.env.LOCAL_AWS_MODULE);
const server = dynalite({ path: process.env.LOCAL_AWS_DIR, createTableMs: 50, deleteTableMs: 50, updateTableMs: 50 });
server.on('error', (error) => { console.error(error); process.exit(1); });
server.listen(0, '127.0.0.1', () => process.stdout.write(JSON.stringify({ port: server.address().port }) + '\\n'));`;

/** Starts s3rver and dynalite; throws naming the server that failed to start (with its stderr). */
export async function startLocalAws(options: LocalAwsOptions = {}): Promise<LocalAws> {
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(os.tmpdir(), 'klines-local-aws-')));
  const require = createRequire(import.meta.url);
  const children: ChildProcess[] = [];
  const killAll = (): void => { for (const child of children) child.kill('SIGKILL'); };
  process.once('exit', killAll);
  try {
    const s3 = await startChild('s3rver', S3RVER_MAIN, require.resolve('s3rver'), path.join(dataDir, 's3'), ['--openssl-legacy-provider'], children);
    const dynamo = await startChild('dynalite', DYNALITE_MAIN, require.resolve('dynalite'), path.join(dataDir, 'dynamodb'), [], children);
    const s3Endpoint = `http://127.0.0.1:${s3}`;
    const dynamodbEndpoint = `http://127.0.0.1:${dynamo}`;
    return {
      s3Endpoint,
      dynamodbEndpoint,
      region: REGION,
      credentials: CREDENTIALS,
      env: {
        AWS_ENDPOINT_URL_S3: s3Endpoint,
        AWS_ENDPOINT_URL_DYNAMODB: dynamodbEndpoint,
        AWS_REGION: REGION,
        AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
      },
      makeS3Client: (fetch) => createS3Client({ endpoint: s3Endpoint, region: REGION, credentials: CREDENTIALS, fetch }),
      makeDynamoClient: (fetch) => createDynamoDbClient({ endpoint: dynamodbEndpoint, region: REGION, credentials: CREDENTIALS, fetch }),
      async close() {
        process.removeListener('exit', killAll);
        await Promise.all(children.map(stopChild));
        if (ownDir) await rm(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    process.removeListener('exit', killAll);
    await Promise.all(children.map(stopChild));
    if (ownDir) await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}

/** Spawns one server and resolves with the port it printed. */
async function startChild(name: string, main: string, modulePath: string, dir: string, nodeFlags: string[], children: ChildProcess[]): Promise<number> {
  await mkdir(dir, { recursive: true });
  const child = spawn(process.execPath, [...nodeFlags, '-e', main], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '', LOCAL_AWS_MODULE: modulePath, LOCAL_AWS_DIR: dir },
  });
  children.push(child);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-4_000); });
  return new Promise<number>((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => fail(`did not start within ${STARTUP_TIMEOUT_MS} ms`), STARTUP_TIMEOUT_MS);
    function fail(reason: string): void {
      clearTimeout(timer);
      reject(new Error(`local aws: ${name} ${reason}${stderr ? `; stderr: ${stderr}` : ''}`));
    }
    child.once('error', (error) => fail(`could not be spawned: ${error.message}`));
    child.once('exit', (code, signal) => fail(`exited (code ${code}, signal ${signal}) before listening`));
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = stdout.split('\n')[0];
      if (!stdout.includes('\n') || line === undefined) return;
      clearTimeout(timer);
      const port = (JSON.parse(line) as { port?: unknown }).port;
      if (typeof port === 'number') resolve(port);
      else fail(`printed ${line} instead of its port`);
    });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.stdin?.end();
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
  await exited;
  clearTimeout(timer);
}
