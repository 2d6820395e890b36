import { InvalidInputError } from './errors.ts';

/**
 * Smallest epoch value accepted: 10^11 ms is 1973-03-03, before any Binance market, while epoch
 * seconds stay below it until the year 5138. Smaller numbers are almost surely seconds (issue 7:
 * `--start 1606780800` read as ms ran for minutes over empty 1970 periods), so they are refused.
 */
export const MIN_EPOCH_MS = 100_000_000_000;

const ISO_PATTERN = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?)?(Z|[+-]\d{2}:?\d{2})?$/;

/**
 * Parses a time given as ISO-8601 (`2024-01-15`, `2024-01-15T10:00Z`, `2024-01-15T10:00:00+02:00`;
 * no zone means UTC) or as epoch ms (`1705312800000`, at least MIN_EPOCH_MS). Returns UTC epoch ms.
 * Throws InvalidInputError naming `what` and the accepted forms; an epoch number below
 * MIN_EPOCH_MS is refused with the milliseconds it probably meant. The CLI, the HTTP query and
 * the invoke payload all come through here (lib/service/request.ts).
 */
export function parseTime(value: string, what: string): number {
  const text = value.trim();
  if (/^\d{1,15}$/.test(text)) {
    const ms = Number(text);
    if (ms >= MIN_EPOCH_MS) return ms;
    throw new InvalidInputError(
      `${what}: ${text} is too small for epoch milliseconds (as epoch seconds it is ${new Date(ms * 1000).toISOString()}); give epoch milliseconds (e.g. ${text}000) or ISO-8601 (2024-01-15T10:00:00Z). Epoch values below ${MIN_EPOCH_MS} (1973-03-03) are refused because they are usually seconds`,
      { [what]: value },
    );
  }
  if (ISO_PATTERN.test(text)) {
    const hasZone = /(Z|[+-]\d{2}:?\d{2})$/.test(text) && text.length > 10;
    const iso = text.replace(' ', 'T');
    const ms = Date.parse(hasZone ? iso : text.length === 10 ? `${iso}T00:00:00Z` : `${iso}Z`);
    if (Number.isFinite(ms) && isCalendarDate(text)) return ms;
  }
  throw new InvalidInputError(
    `${what}: "${value}" is not a time; use ISO-8601 (2024-01-15, 2024-01-15T10:00:00Z) or epoch milliseconds (1705312800000)`,
    { [what]: value },
  );
}

// V8's Date.parse rolls impossible days over (2024-02-30 → 2024-03-01) instead of failing.
function isCalendarDate(text: string): boolean {
  const [year, month, day] = text.slice(0, 10).split('-').map(Number) as [number, number, number];
  return month >= 1 && month <= 12 && day >= 1 && day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** ISO-8601 text of UTC epoch ms, for messages. */
export function formatTime(ms: number): string {
  return new Date(ms).toISOString();
}
