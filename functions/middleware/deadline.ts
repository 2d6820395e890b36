/**
 * When a handler must have answered (issue 11): the Lambda's own remaining time
 * (`context.getRemainingTimeInMillis()`), capped for HTTP functions at API Gateway's integration
 * timeout (30 s: past it the caller gets a 504 whatever the function does), minus a margin for
 * shaping the answer. The fill is stopped `marginMs` before the answer is due, so the handler
 * still has that long to read the coverage, hand the rest to the worker and write the answer.
 */
import type { Context } from 'aws-lambda';

/** API Gateway's maximum integration timeout (AWS docs, "Amazon API Gateway quotas"): 30 s. */
export const API_GATEWAY_TIMEOUT_MS = 30_000;
/** Kept under the deadline for Lambda's and API Gateway's own overhead (serializing, network). */
export const TRANSPORT_SAFETY_MS = 500;

/** A handler's deadline for one invocation. Times are `performance.now()` ms, durations ms. */
export interface Deadline {
  /** The answer must be returned by this time. */
  readonly answerByMs: number;
  /** The fill stops at this time (answerByMs − the shaping margin). */
  readonly fillStopMs: number;
  /** Aborts at fillStopMs; pass it to the service. */
  readonly signal: AbortSignal;
  /** Resolves at fillStopMs (a timer that does not keep the process alive). */
  readonly reached: Promise<void>;
  /** Milliseconds left until the answer is due (never negative). */
  remainingMs(): number;
  /** Clears the timers (call when the invocation is over). */
  dispose(): void;
}

/** Options: the cap on the Lambda's remaining time (HTTP: 30 s; invoke: none), and the shaping margin. */
export interface DeadlineOptions {
  readonly capMs?: number;
  readonly marginMs: number;
}

/**
 * The deadline of this invocation. A context without `getRemainingTimeInMillis` (a local call)
 * counts as having the cap, or 15 minutes (Lambda's maximum timeout) when there is none.
 * The fill always gets at least 1 ms, so even a context already out of time answers at once.
 */
export function startDeadline(context: Pick<Context, 'getRemainingTimeInMillis'> | undefined, options: DeadlineOptions): Deadline {
  const nowMs = performance.now();
  const lambdaMs = typeof context?.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : 15 * 60_000;
  const budgetMs = Math.max(0, Math.min(lambdaMs, options.capMs ?? Infinity) - TRANSPORT_SAFETY_MS);
  const answerByMs = nowMs + budgetMs;
  const fillStopMs = nowMs + Math.max(1, budgetMs - options.marginMs);
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const reached = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      controller.abort(new Error('deadline: the fill stops so the answer goes out in time'));
      resolve();
    }, fillStopMs - nowMs);
    timer.unref();
  });
  return {
    answerByMs,
    fillStopMs,
    signal: controller.signal,
    reached,
    remainingMs: () => Math.max(0, answerByMs - performance.now()),
    dispose: () => clearTimeout(timer),
  };
}
