/**
 * DynamoDB's JSON 1.0 protocol over {@link createAwsHttpClient} (AWS docs, "DynamoDB low-level
 * API": `POST /` with `X-Amz-Target: DynamoDB_20120810.{Action}`), with plain JS values in and
 * out of items (`@aws-sdk/util-dynamodb`'s marshall/unmarshall, `undefined` attributes dropped,
 * as the document client did). Only what the cache's table needs: GetItem, PutItem, UpdateItem,
 * DeleteItem, Query and Scan (each page), CreateTable/DescribeTable/DeleteTable for local setup.
 */
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { createAwsHttpClient, jsonCall, type AwsClientOptions, type AwsHttpClient } from './aws-http.ts';

/** A DynamoDB item or key with plain JS values (strings, numbers, booleans, null, arrays, objects). */
export type Item = Record<string, unknown>;

/** Input of a read or write: the action's JSON shape, with `Item`/`Key`/`ExpressionAttributeValues` as plain values. */
export interface DynamoDbInput {
  readonly TableName: string;
  readonly Key?: Item;
  readonly Item?: Item;
  readonly ExpressionAttributeValues?: Item;
  readonly [field: string]: unknown;
}

/** One page of a Query or Scan: its items (plain values). */
export interface DynamoDbPage {
  readonly items: Item[];
}

/** A DynamoDB client: one call per action. Failures reject with AwsRequestError named by DynamoDB's error type. */
export interface DynamoDbClient {
  /** GetItem; the item, or undefined when there is none. */
  getItem(input: DynamoDbInput): Promise<Item | undefined>;
  /** PutItem, UpdateItem or DeleteItem (conditions fail with `ConditionalCheckFailedException`). */
  write(action: 'PutItem' | 'UpdateItem' | 'DeleteItem', input: DynamoDbInput): Promise<void>;
  /** Every page of a Query or Scan, following LastEvaluatedKey. */
  pages(action: 'Query' | 'Scan', input: DynamoDbInput): AsyncGenerator<DynamoDbPage>;
  /** Any other action with its raw JSON (attribute values in DynamoDB JSON): table setup. */
  call<T = Record<string, unknown>>(action: string, input: Record<string, unknown>): Promise<T>;
}

/** A DynamoDB client for `options` (endpoint, region, credentials, fetch). */
export function createDynamoDbClient(options: AwsClientOptions = {}): DynamoDbClient {
  return dynamoDbOver(createAwsHttpClient('dynamodb', options));
}

function dynamoDbOver(http: AwsHttpClient): DynamoDbClient {
  const call = <T>(action: string, input: Record<string, unknown>): Promise<T> => jsonCall<T>(http, `DynamoDB_20120810.${action}`, input, `dynamodb ${action}`);
  const toWire = (input: DynamoDbInput): Record<string, unknown> => ({
    ...input,
    ...(input.Key ? { Key: marshallItem(input.Key) } : {}),
    ...(input.Item ? { Item: marshallItem(input.Item) } : {}),
    ...(input.ExpressionAttributeValues ? { ExpressionAttributeValues: marshallItem(input.ExpressionAttributeValues) } : {}),
  });
  return {
    call,
    async getItem(input) {
      const { Item } = await call<{ Item?: Record<string, never> }>('GetItem', toWire(input));
      return Item ? unmarshall(Item) : undefined;
    },
    async write(action, input) {
      await call(action, toWire(input));
    },
    async *pages(action, input) {
      let start: Record<string, unknown> | undefined;
      do {
        const page = await call<{ Items?: Record<string, never>[]; LastEvaluatedKey?: Record<string, never> }>(
          action, { ...toWire(input), ...(start ? { ExclusiveStartKey: start } : {}) });
        start = page.LastEvaluatedKey;
        yield { items: (page.Items ?? []).map((item) => unmarshall(item)) };
      } while (start);
    },
  };
}

function marshallItem(item: Item): Record<string, unknown> {
  return marshall(item, { removeUndefinedValues: true, convertClassInstanceToMap: false }) as Record<string, unknown>;
}
