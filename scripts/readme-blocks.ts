/**
 * Finds the README's code blocks that `npm run readme-check` runs (scripts/readme-check.ts), with
 * the directives written beside them as HTML comments (invisible on GitHub):
 *
 * - `<!-- readme-check: skip: REASON -->` on the line before a block: not run (REASON is required);
 * - `<!-- readme-check: expect TEXT -->` right after a block: its output must contain TEXT;
 * - `<!-- readme-check: parquet-rows DIR N [KEY] -->` right after a `sql` block: run in DuckDB with its
 *   Parquet globs taken relative to DIR, it must return N rows, and the globs must hold N rows
 *   with N distinct KEY values (default open_time; calc_time for funding events).
 *
 * `sh` blocks run unless skipped; a `sql` block needs `parquet-rows` or a skip reason.
 */

/** One fenced block. `line` is the 1-based line of its opening fence. */
export interface ReadmeBlock {
  readonly line: number;
  readonly language: string;
  readonly code: string;
  readonly skip?: string;
  readonly expect: readonly string[];
  readonly parquetRows?: { readonly dir: string; readonly rows: number; readonly key?: string };
}

const DIRECTIVE = /^<!--\s*readme-check:\s*(.*?)\s*-->$/;

/** Parses `markdown`. Throws naming the line of a directive it cannot read or place. */
export function parseReadmeBlocks(markdown: string): ReadmeBlock[] {
  const lines = markdown.split('\n');
  const blocks: Array<ReadmeBlock & { expect: string[] }> = [];
  let pending: string[] = [];
  let lastClosedAt = -2;
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!.trim();
    const directive = DIRECTIVE.exec(text);
    if (directive) {
      const last = blocks.at(-1);
      if (last && lastClosedAt === i - 1) {
        applyDirective(last, directive[1]!, i + 1);
        lastClosedAt = i; // several directives may follow a block, one a line
      }
      else pending.push(`${i + 1}\t${directive[1]}`);
      continue;
    }
    const fence = /^```(\S*)/.exec(text);
    if (!fence) {
      if (text !== '' && pending.length > 0) throw new Error(`README.md:${pending[0]!.split('\t')[0]}: a readme-check directive must sit right before or after a code block`);
      continue;
    }
    const close = lines.findIndex((l, j) => j > i && l.trim() === '```');
    if (close < 0) throw new Error(`README.md:${i + 1}: code block never closed`);
    const block = { line: i + 1, language: fence[1] ?? '', code: lines.slice(i + 1, close).join('\n'), expect: [] as string[] };
    for (const entry of pending) {
      const [at, body] = entry.split('\t') as [string, string];
      applyDirective(block, body, Number(at));
    }
    pending = [];
    blocks.push(block);
    lastClosedAt = close;
    i = close;
  }
  return blocks;
}

function applyDirective(block: { expect: string[]; skip?: string; parquetRows?: { dir: string; rows: number; key?: string } }, body: string, line: number): void {
  const skip = /^skip:\s*(\S.*)$/.exec(body);
  const expect = /^expect\s+(\S.*)$/.exec(body);
  const rows = /^parquet-rows\s+(\S+)\s+(\d+)(?:\s+([a-z_]+))?$/.exec(body);
  if (skip) block.skip = skip[1]!;
  else if (expect) block.expect.push(expect[1]!);
  else if (rows) block.parquetRows = rows[3] === undefined ? { dir: rows[1]!, rows: Number(rows[2]) } : { dir: rows[1]!, rows: Number(rows[2]), key: rows[3] };
  else throw new Error(`README.md:${line}: unknown readme-check directive "${body}"; use skip: REASON, expect TEXT or parquet-rows DIR N [KEY]`);
}

/** The quoted Parquet paths or globs a SQL block reads (`'…parquet'`). */
export function parquetGlobs(sql: string): string[] {
  return [...sql.matchAll(/'([^']+\.parquet)'/g)].map((match) => match[1]!);
}
