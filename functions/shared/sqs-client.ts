/**
 * SQS SendMessageBatch over the project's signed fetch (lib/store/aws-http.ts; issue 9: the AWS
 * SDK's SQS client was part of every handler's cold start): the AWS JSON 1.0 protocol
 * (`POST /`, `X-Amz-Target: AmazonSQS.SendMessageBatch`; AWS docs, "SendMessageBatch"), to the
 * configured endpoint (`AWS_ENDPOINT_URL_SQS`) or `https://sqs.{region}.amazonaws.com`.
 */
import type { Config } from '../../lib/config.ts';
import { awsOptions } from '../../lib/config.ts';
import { createAwsHttpClient, jsonCall, type AwsClientOptions } from '../../lib/store/aws-http.ts';

/** One message of a batch: `Id` unique within the batch (≤ 80 of `[A-Za-z0-9_-]`), the body as text. */
export interface SendMessageBatchEntry {
  readonly Id: string;
  readonly MessageBody: string;
}

/** SendMessageBatch's request: the queue's URL and 1…10 entries. */
export interface SendMessageBatchInput {
  readonly QueueUrl: string;
  readonly Entries: readonly SendMessageBatchEntry[];
}

/** SendMessageBatch's answer: the entries taken and those refused (each with SQS's code). */
export interface SendMessageBatchOutput {
  readonly Successful?: readonly { Id: string; MessageId?: string; MD5OfMessageBody?: string }[];
  readonly Failed?: readonly { Id: string; Code: string; Message?: string; SenderFault?: boolean }[];
}

/** SQS's limit of entries per SendMessageBatch (AWS docs, "SendMessageBatch"). */
export const SQS_BATCH_SIZE = 10;

/** An SQS client. */
export interface SqsClient {
  /** Sends one batch; rejects with AwsRequestError when SQS refuses the whole request. */
  sendMessageBatch(input: SendMessageBatchInput): Promise<SendMessageBatchOutput>;
}

/** An SQS client for `options` (endpoint, region, credentials, fetch). */
export function createSqsClient(options: AwsClientOptions = {}): SqsClient {
  const http = createAwsHttpClient('sqs', options);
  return {
    sendMessageBatch: (input) => jsonCall<SendMessageBatchOutput>(http, 'AmazonSQS.SendMessageBatch', input, `sqs SendMessageBatch to ${input.QueueUrl}`),
  };
}

/** The SQS client of `config` (its `AWS_ENDPOINT_URL_SQS`, region and credentials). */
export function createSqsClientFromConfig(config: Pick<Config, 'aws'>): SqsClient {
  return createSqsClient(awsOptions(config, config.aws.sqsEndpoint));
}
