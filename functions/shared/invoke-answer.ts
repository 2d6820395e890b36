/**
 * Shapes a klines answer for a direct invoke (invoke-get-klines.ts): the rows inline when the
 * serialized result fits `inlineLimitBytes` (and they are at most `maxInlineRows`), otherwise
 * the `uri` of a Parquet result in the results location. A streamed answer (prepare-stream.ts)
 * is held only while it could still go inline; past that, it goes to the results location row
 * group by row group as it is read (an S3 multipart upload, aborted if the answer fails midway),
 * so a long answer is never whole in memory.
 */
import type { InvokeKlinesAnswered, InvokeKlinesStats } from '../../lib/client/klines-client.ts';
import { concatDisjoint, emptyColumns, rowsFromColumns, type SourcedColumns } from '../../lib/domain/kline-columns.ts';
import { parquetBytes } from '../../lib/service/format.ts';
import type { KlinesStats } from '../../lib/service/klines-service.ts';
import type { KlinesStream } from '../../lib/service/stream-klines.ts';
import { answerRows, putStreamed, type HttpAnswerSource } from './http-answer.ts';
import type { ResultsLocation } from './results.ts';

/** A JSON row is well over this many bytes (11 named columns): a longer answer is not serialized just to be measured. */
const MIN_JSON_ROW_BYTES = 100;

/** The limits of an inline result. */
export interface InvokeLimits {
  readonly inlineLimitBytes: number;
  readonly maxInlineRows: number;
}

/** The result and how it went out. Throws StoreError when the Parquet result cannot be written, and what the stream throws. */
export async function shapeInvokeAnswer(answer: HttpAnswerSource, limits: InvokeLimits, results: ResultsLocation): Promise<{ result: InvokeKlinesAnswered; delivery: 'inline' | 'url' }> {
  const small = (rows: number): boolean => rows * MIN_JSON_ROW_BYTES <= limits.inlineLimitBytes && rows <= limits.maxInlineRows;
  const held = 'columns' in answer ? { whole: answer } : await holdWhile(answer, small);
  if (held.whole && small(held.whole.columns.length)) {
    const inline = { ok: true as const, count: held.whole.columns.length, rows: rowsFromColumns(held.whole.columns), stats: publicStats(answer.stats) };
    if (Buffer.byteLength(JSON.stringify(inline)) <= limits.inlineLimitBytes) return { result: inline, delivery: 'inline' };
  }
  const { uri } = await putStreamed(results, parquetBytes(held.whole ?? held.rest!), 'parquet');
  return { result: { ok: true, count: answerRows(answer), stats: publicStats(answer.stats), uri }, delivery: 'url' };
}

/**
 * Reads `stream` while `small(rows so far)`: the whole answer when it ends first, else the chunks
 * read and the rest of the stream, in order (the stream is closed when they are not read to the end).
 */
async function holdWhile(stream: KlinesStream, small: (rows: number) => boolean): Promise<{ whole?: SourcedColumns; rest?: AsyncIterable<SourcedColumns> }> {
  const iterator = stream[Symbol.asyncIterator]();
  const held: SourcedColumns[] = [];
  let rows = 0;
  for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
    held.push(next.value);
    rows += next.value.columns.length;
    if (!small(rows)) return { rest: heldThenRest(held, iterator) };
  }
  return { whole: concatDisjoint(held) ?? { columns: emptyColumns(), sources: new Uint8Array(0) } };
}

async function* heldThenRest(held: SourcedColumns[], iterator: AsyncIterator<SourcedColumns>): AsyncGenerator<SourcedColumns> {
  try {
    while (held.length > 0) yield held.shift()!;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
  } finally {
    await iterator.return?.();
  }
}

function publicStats(stats: KlinesStats): InvokeKlinesStats {
  const { rowsFromCache, rowsFromVision, rowsFromRest, visionFiles, restRequests, restWeight, gaps, elapsedMs } = stats;
  return { rowsFromCache, rowsFromVision, rowsFromRest, visionFiles, restRequests, restWeight, gaps, elapsedMs };
}
