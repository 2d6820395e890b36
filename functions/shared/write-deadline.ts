/**
 * Bounds the writing of a streamed answer by the invocation's deadline (issue 11's "no late
 * answer", for the answers issue 9 streams to the results location after the fill): the fill
 * stops at its own deadline, but a long range already cached is read and written after it, and
 * API Gateway drops an HTTP answer after 30 s whatever the function does. So the stream stops,
 * before it yields its next chunk, once `stopAtMs` has passed: the upload is then aborted (no
 * result is left) and the caller gets DEADLINE_REACHED, a 503 with Retry-After on HTTP, instead
 * of a gateway timeout. The rows stay cached, so the retry only reads.
 */
import { DeadlineReachedError } from '../../lib/domain/errors.ts';
import type { KlinesAnswer } from '../../lib/service/klines-service.ts';
import type { ResolvedQuery } from '../../lib/service/request.ts';
import type { KlinesStream } from '../../lib/service/stream-klines.ts';
import type { Deadline } from '../middleware/deadline.ts';
import { fillWithinDeadline, type FillOutcome } from './fill-within-deadline.ts';
import { streamsAnswer } from './http-answer.ts';
import type { Runtime } from './runtime.ts';

/** Time kept after the stream's last chunk to finish the upload (complete it, presign) and answer, in ms. */
export const WRITE_FINISH_MS = 1_500;

/**
 * `stream`, unchanged (same chunks, `rows`, `stats`), except that it throws DeadlineReachedError
 * (details: rows written, empty `remaining`: nothing is left to fill) instead of yielding a chunk
 * once `nowMs()` is past `stopAtMs` (both on the `performance.now()` clock by default).
 */
export function streamUntil(stream: KlinesStream, stopAtMs: number, nowMs: () => number = () => performance.now()): KlinesStream {
  return {
    get stats() { return stream.stats; },
    get rows() { return stream.rows; },
    async *[Symbol.asyncIterator]() {
      let rows = 0;
      for await (const chunk of stream) {
        if (nowMs() > stopAtMs) {
          throw new DeadlineReachedError(
            `the answer is too long to write before this invocation's deadline (${rows} rows written when it was reached); its rows are cached, so asking again only reads them: ask again, ask a shorter range, or use the invoke function for long answers`,
            { remaining: [], rowsWritten: rows },
          );
        }
        rows += chunk.columns.length;
        yield chunk;
      }
    },
  };
}

/**
 * The klines answer of both handlers within `deadline` (fill-within-deadline.ts): a range of more
 * candles than `KLINES_MAX_INLINE_ROWS` is filled, then streamed from the cache
 * (`runtime.prepareStream`) under the write deadline above; a shorter one is answered whole.
 */
export async function answerWithinDeadline(runtime: Runtime, query: ResolvedQuery, deadline: Deadline): Promise<FillOutcome<KlinesAnswer | KlinesStream>> {
  if (!streamsAnswer(query, runtime.config.maxInlineRows)) return fillWithinDeadline(runtime, query, deadline);
  const outcome = await fillWithinDeadline(runtime, query, deadline, runtime.prepareStream);
  return outcome.kind === 'answered' ? { kind: 'answered', answer: streamUntil(outcome.answer, deadline.answerByMs - WRITE_FINISH_MS) } : outcome;
}
