/**
 * The parser behind `npm run readme-check` (scripts/readme-blocks.ts): which README blocks run,
 * with which directives, and that a misplaced or unknown directive is an error, not a silent skip.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parquetGlobs, parseReadmeBlocks } from '../../scripts/readme-blocks.ts';
import { thrown } from '../helpers/thrown.ts';

const fence = '```';

describe('parseReadmeBlocks', () => {
  it('attaches a directive before a block to it, and one right after a block to that block', () => {
    const blocks = parseReadmeBlocks([
      'text', '<!-- readme-check: skip: needs the network -->', `${fence}sh`, 'curl example.com', fence,
      '', `${fence}sh`, 'echo hi', fence, '<!-- readme-check: expect hi -->', '',
      `${fence}sql`, "SELECT * FROM 'a/**/*.parquet'", fence, '<!-- readme-check: parquet-rows .cache/x 12 -->',
    ].join('\n'));
    expect(blocks).toEqual([
      { line: 3, language: 'sh', code: 'curl example.com', expect: [], skip: 'needs the network' },
      { line: 7, language: 'sh', code: 'echo hi', expect: ['hi'] },
      { line: 12, language: 'sql', code: "SELECT * FROM 'a/**/*.parquet'", expect: [], parquetRows: { dir: '.cache/x', rows: 12 } },
    ]);
  });

  it('takes several directives after a block, one a line, and an optional key column for parquet-rows', () => {
    const blocks = parseReadmeBlocks([
      `${fence}sh`, 'echo a b', fence, '<!-- readme-check: expect a -->', '<!-- readme-check: expect b -->', '',
      `${fence}sql`, "SELECT * FROM 'f/**/*.parquet'", fence, '<!-- readme-check: parquet-rows .cache/x 7 calc_time -->',
    ].join('\n'));
    expect(blocks.map((b) => [b.expect, b.parquetRows])).toEqual([[['a', 'b'], undefined], [[], { dir: '.cache/x', rows: 7, key: 'calc_time' }]]);
  });

  it.each([
    ['an unknown directive', ['<!-- readme-check: maybe -->', `${fence}sh`, 'true', fence], 'README.md:1: unknown readme-check directive'],
    ['a skip without a reason', ['<!-- readme-check: skip -->', `${fence}sh`, 'true', fence], 'README.md:1: unknown'],
    ['a directive away from any block', ['<!-- readme-check: expect x -->', 'prose', `${fence}sh`, 'true', fence], 'README.md:1: a readme-check directive must sit right before or after'],
    ['an unclosed block', [`${fence}sh`, 'true'], 'README.md:1: code block never closed'],
  ])('rejects %s naming its line', (_what, lines, says) => {
    expect(thrown(() => parseReadmeBlocks(lines.join('\n'))).message).toContain(says);
  });

  it('finds in the real README a main job that must print 1,809 rows, and a reason for every skipped sh block', () => {
    const blocks = parseReadmeBlocks(readFileSync(resolve(import.meta.dirname, '../../README.md'), 'utf8'));
    const sh = blocks.filter((b) => b.language === 'sh');
    expect(sh[0]!.code).toContain('npm ci && npm run -s replay -- get BTCUSDT 1h');
    expect(sh[0]!.expect).toContain('"rows":1809');
    expect(sh.filter((b) => b.skip === undefined).length).toBeGreaterThanOrEqual(5);
    expect(blocks.filter((b) => b.language === 'sql').every((b) => b.parquetRows !== undefined || b.skip !== undefined)).toBe(true);
  });
});

describe('parquetGlobs', () => {
  it('takes the quoted Parquet paths of a query', () => {
    expect(parquetGlobs("SELECT * FROM read_parquet(['a/*.parquet', 'b/**/*.parquet']) WHERE x = 'y'")).toEqual(['a/*.parquet', 'b/**/*.parquet']);
  });
});
