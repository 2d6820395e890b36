import { InvalidInputError } from './errors.ts';

const ISO_PATTERN = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?)?(Z|[+-]\d{2}:?\d{2})?$/;

/**
 * Parses a time given as ISO-8601 (`2024-01-15`, `2024-01-15T10:00Z`, `2024-01-15T10:00:00+02:00`;
 * no zone means UTC) or as epoch ms (`1705312800000`). Returns UTC epoch ms.
 * Throws InvalidInputError naming `what` and the accepted forms.
 */
export function parseTime(value: string, what: string): number {
  const text = value.trim();
  if (/^\d{1,15}$/.test(text)) return Number(text);
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
