/**
 * A fake SQS endpoint on 127.0.0.1 for the handler tests (no SQS server is installed): it takes
 * SendMessageBatch in the AWS JSON 1.0 protocol (`X-Amz-Target: AmazonSQS.SendMessageBatch`) the
 * handlers send to `AWS_ENDPOINT_URL_SQS`, and answers what the test's `answer` function returns
 * (by default every entry taken), so a test sees the real request and can make SQS refuse entries.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SendMessageBatchInput, SendMessageBatchOutput } from '../../functions/shared/sqs-client.ts';

/** How the queue answers one batch. */
export type SqsAnswer = (input: SendMessageBatchInput) => SendMessageBatchOutput;

/** The running endpoint. */
export interface FakeSqs {
  /** `http://127.0.0.1:{port}`, for AWS_ENDPOINT_URL_SQS. */
  readonly url: string;
  /** Answers the next batches with `answer`. */
  answer(answer: SqsAnswer): void;
  /** Back to taking every entry. */
  reset(): void;
  close(): Promise<void>;
}

/** Every entry taken, with a message id. */
export const acceptAll: SqsAnswer = (input) => ({
  Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: `m-${e.Id}` })), Failed: [],
});

/** Starts the endpoint; resolves once it listens. */
export async function startFakeSqs(): Promise<FakeSqs> {
  let current: SqsAnswer = acceptAll;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      res.setHeader('content-type', 'application/x-amz-json-1.0');
      if (target !== 'AmazonSQS.SendMessageBatch' || !String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 ')) {
        res.writeHead(400).end(JSON.stringify({ __type: 'com.amazonaws.sqs#InvalidAction', message: `fake SQS: unsigned or unsupported ${target}` }));
        return;
      }
      try {
        res.writeHead(200).end(JSON.stringify(current(JSON.parse(Buffer.concat(chunks).toString('utf8')) as SendMessageBatchInput)));
      } catch (error) {
        res.writeHead(500).end(JSON.stringify({ __type: 'com.amazonaws.sqs#InternalError', message: (error as Error).message }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    answer: (answer) => { current = answer; },
    reset: () => { current = acceptAll; },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
