/** Plain-text tables for the `klines` commands' summaries (`sync`, `ls`, `symbols`). */

/**
 * Left-aligned columns separated by two spaces, a header line first; numbers (cells that are
 * numbers) are right-aligned. Returns the text with a trailing newline.
 */
export function formatTable(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => String(row[i] ?? '').length)));
  const line = (cells: readonly (string | number)[]): string => cells
    .map((cell, i) => (typeof cell === 'number' ? String(cell).padStart(widths[i]!) : String(cell).padEnd(widths[i]!)))
    .join('  ')
    .trimEnd();
  return `${[line(headers), ...rows.map(line)].join('\n')}\n`;
}
