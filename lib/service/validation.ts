/**
 * Messages of the valibot object schemas at the edges (handler queries and payloads, the
 * watchlist), so every refusal names the field and what is accepted: valibot reports a missing
 * key and an unknown key as issues of the object itself, not of the field's own schema.
 */
import type { BaseIssue } from 'valibot';

/**
 * A message function for `v.object`/`v.strictObject`: a missing key gets `required[key]` (e.g.
 * `symbol is required, e.g. BTCUSDT`), an unknown key `Unrecognized key: "name"`, a value that is
 * not an object `notObject` (when given); anything else keeps valibot's message.
 */
export function objectMessages(required: Readonly<Record<string, string>> = {}, notObject?: string): (issue: BaseIssue<unknown>) => string {
  return (issue) => {
    if (issue.expected === 'never') return `Unrecognized key: ${issue.received}`;
    if (issue.expected === 'Object') return notObject ?? issue.message;
    const key = issue.path?.at(-1)?.key;
    return (typeof key === 'string' ? required[key] : undefined) ?? issue.message;
  };
}
