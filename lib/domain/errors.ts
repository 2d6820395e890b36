/**
 * The project's one error tree. Every error has a stable `code`; only the HTTP edge
 * (functions/) and the CLI map codes to statuses or exit codes.
 * Modelled on Powertools' error classes: `name`, `code`, `cause` and a `details` bag.
 */

/** Stable machine-readable error codes. */
export type KlinesErrorCode =
  | 'INVALID_INPUT'
  | 'UPSTREAM_FAILED'
  | 'UPSTREAM_REJECTED'
  | 'UPSTREAM_RESTRICTED'
  | 'UNKNOWN_SYMBOL'
  | 'RATE_LIMITED'
  | 'CHECKSUM_MISMATCH'
  | 'INVALID_DATA'
  | 'CONFLICT'
  | 'STORE_FAILED'
  | 'DEADLINE_REACHED';

/** Base class: `code` is stable, `details` carries the bad value or the failed range. */
export class KlinesError extends Error {
  readonly code: KlinesErrorCode;
  readonly details: Record<string, unknown>;

  constructor(code: KlinesErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = options.details ?? {};
  }
}

/** Bad input from a caller (CLI flag, HTTP query, library argument). The message says what is accepted. */
export class InvalidInputError extends KlinesError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('INVALID_INPUT', message, { details });
  }
}

/**
 * An upstream (Vision or REST) failed for a range, so that range stays a gap.
 * `details.range` is `{ startMs, endMs }` (half-open, UTC epoch ms) when known.
 */
export class UpstreamError extends KlinesError {
  constructor(message: string, options: { cause?: unknown; details?: Record<string, unknown>; code?: KlinesErrorCode } = {}) {
    super(options.code ?? 'UPSTREAM_FAILED', message, options);
  }
}

/** A Vision zip whose sha256 differs from its `.CHECKSUM` sidecar: never data (DESIGN.md, Upstreams). */
export class ChecksumMismatchError extends KlinesError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('CHECKSUM_MISMATCH', message, { details });
  }
}

/** Rows that fail validation (columns, types, order, duplicates, OHLC sanity): never cached. */
export class DataValidationError extends KlinesError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('INVALID_DATA', message, { details });
  }
}

/** A conditional update lost a race (another writer changed the coverage record first). */
export class ConflictError extends KlinesError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('CONFLICT', message, { details });
  }
}

/** The cache (object store or coverage index) could not be read or written. */
export class StoreError extends KlinesError {
  constructor(message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super('STORE_FAILED', message, options);
  }
}

/**
 * A request stopped at its deadline (the caller's AbortSignal) before every gap was filled.
 * What was fetched before it is kept in the cache; `details.remaining` lists the ranges
 * (half-open, UTC epoch ms) still to fill. The handlers answer it with 202 Accepted (issue 11).
 */
export class DeadlineReachedError extends KlinesError {
  constructor(message: string, details: { remaining: readonly { startMs: number; endMs: number }[] } & Record<string, unknown>) {
    super('DEADLINE_REACHED', message, { details });
  }
}
