/**
 * What the index-only handlers (`GET /coverage`, `GET /datasets`) build once per container: the
 * configuration, the coverage index and Powertools' logger and metrics, and nothing else (issue 9,
 * cold starts: "only the clients each function uses"). runtime.ts builds the whole service for
 * the handlers that read or fill klines; importing only this module keeps the object store, the
 * Parquet codecs and the service out of a bundle.
 */
import { loadConfig, type Config } from '../../lib/config.ts';
import { createObservability, type Observability } from '../../lib/observability.ts';
import { createCoverageIndexFromConfig } from '../../lib/open-index.ts';
import type { CoverageIndex } from '../../lib/store/types.ts';

/** The per-container state of an index-only handler. */
export interface IndexRuntime {
  readonly config: Config;
  readonly index: CoverageIndex;
  readonly obs: Observability;
}

/** Builds it from `process.env` (through loadConfig). Throws InvalidInputError naming a bad variable. */
export function createIndexRuntime(config: Config = loadConfig()): IndexRuntime {
  return { config, index: createCoverageIndexFromConfig(config), obs: createObservability(config) };
}
