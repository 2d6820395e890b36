/**
 * A bench-only SQS endpoint on 127.0.0.1 that takes `SendMessageBatch` (the AWS JSON 1.0
 * protocol the SDK v3 speaks: `X-Amz-Target: AmazonSQS.SendMessageBatch`) and keeps the message
 * bodies, so a bundled handler (which carries its own AWS client, out of any in-process mock's
 * reach) can hand work to a queue that the bench then delivers to the bundled worker.
 * Answers each entry with the MD5 of its body, which the SDK checks.
 */
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The running endpoint: `url` for AWS_ENDPOINT_URL_SQS; `bodies` in arrival order. */
export interface BenchSqsServer {
  readonly url: string;
  readonly bodies: string[];
  close(): Promise<void>;
}

/** Starts the endpoint on a free loopback port; resolves once it listens. */
export async function startBenchSqsServer(): Promise<BenchSqsServer> {
  const bodies: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      if (target !== 'AmazonSQS.SendMessageBatch') {
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify({ __type: 'com.amazonaws.sqs#UnsupportedOperation', message: `bench SQS: ${target} is not supported` }));
        return;
      }
      const input = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { Entries: { Id: string; MessageBody: string }[] };
      const successful = input.Entries.map((entry) => {
        bodies.push(entry.MessageBody);
        return { Id: entry.Id, MessageId: `bench-${bodies.length}`, MD5OfMessageBody: createHash('md5').update(entry.MessageBody).digest('hex') };
      });
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(JSON.stringify({ Successful: successful, Failed: [] }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bodies,
    close: () => new Promise<void>((resolve, reject) => {
      server.closeAllConnections();
      server.close((error) => (error ? reject(error) : resolve()));
    }),
  };
}
