/**
 * SQS SendMessageBatch over the project's signed fetch (lib/store/aws-http.ts; issue 9: the AWS
 * SDK's SQS client was part of every handler's cold start): the AWS JSON 1.0 protocol
 * (`POST /`, `X-Amz-Target: AmazonSQS.SendMessageBatch`; AWS docs, "SendMessageBatch"), to the
 * configured endpoint (`AWS_ENDPOINT_URL_SQS`) or `https://sqs.{region}.amazonaws.com`.
 */
import type { Config } from '../../lib/config.ts';
import { awsOptions } from '../../lib/config.ts';
import { createAwsHttpClient, errorFromResponse, type AwsClientOptions } from '../../lib/store/aws-http.ts';

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

/** An SQS client. */
export interface SqsClient {
  /** Sends one batch; rejects with AwsRequestError when SQS refuses the whole request. */
  sendMessageBatch(input: SendMessageBatchInput): Promise<SendMessageBatchOutput>;
}

/** An SQS client for `options` (endpoint, region, credentials, fetch). */
export function createSqsClient(options: AwsClientOptions = {}): SqsClient {
  const http = createAwsHttpClient('sqs', options);
  return {
    async sendMessageBatch(input) {
      const response = await http.send({
        method: 'POST',
        url: `${await http.baseUrl()}/`,
        headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.SendMessageBatch' },
        body: JSON.stringify(input),
      });
      if (!response.ok) throw await errorFromResponse(response, `sqs SendMessageBatch to ${input.QueueUrl}`);
      return (await response.json()) as SendMessageBatchOutput;
    },
  };
}

/** The SQS client of `config` (its `AWS_ENDPOINT_URL_SQS`, region and credentials). */
export function createSqsClientFromConfig(config: Pick<Config, 'aws'>): SqsClient {
  return createSqsClient(awsOptions(config, config.aws.sqsEndpoint));
}
