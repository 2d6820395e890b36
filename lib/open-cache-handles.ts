/**
 * The cache handles of the CLI: the local cache without the AWS SDK, S3 and DynamoDB through a
 * dynamic import of create-service.ts, so `klines` on local files never loads the SDK (issue 9,
 * cold starts). Lambdas import create-service.ts directly (see open-service.ts).
 */
import type { Config } from './config.ts';
import type { AwsClientsOverride, CacheHandles } from './create-service.ts';
import { createFsCacheHandles, isLocalConfig } from './open-service.ts';

/** The handles `config` names; loads the AWS SDK only when S3 or DynamoDB is configured. */
export async function openCacheHandles(config: Config, clients: AwsClientsOverride = {}): Promise<CacheHandles> {
  if (isLocalConfig(config)) return createFsCacheHandles(config);
  const { createCacheHandles } = await import('./create-service.ts');
  return createCacheHandles(config, clients);
}
