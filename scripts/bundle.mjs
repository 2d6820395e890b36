// `npm run bundle`: one esbuild bundle per Lambda (issue 4, "Bundles"), then one zip per function
// for `osls package` (serverless.yml points each function's `package.artifact` at its zip).
//
//   dist/functions/<name>/index.mjs      ESM, node24, minified; the handler is `index.handler`
//   dist/functions/<name>/chunks/*.mjs   code the handler imports only when it needs it (see bundleOne)
//   dist/functions/<name>/*.map          source maps (mappings only; NODE_OPTIONS=--enable-source-maps)
//   dist/functions/<name>.zip            all of these, fixed timestamps and modes (same input, same zip)
//   (KLINES_BUNDLE_DIR=/abs/folder puts all of it there instead of dist/functions)
//   dist/functions/sizes.json            the table printed below, for tests and the bench
//                                        ("at start": index.mjs and the chunks it imports statically,
//                                        the code a cold start loads; the other chunks load on first use)
//
// No AWS SDK client is bundled (issue 9, cold starts): S3, DynamoDB and SQS go through
// lib/store/aws-http.ts (aws4fetch); the SDK's credential chain, which only a process without
// keys in its environment loads, is imported by a computed name and stays out of the bundles.
// Exits 1 when a function's code (index.mjs + chunks) is over BUDGET_BYTES (1.1 MB unzipped; 1 MB
// in issue 4, raised when the SDK's SQS client came in, before issue 9 took the SDK out) or a
// handler is missing.
import { build } from 'esbuild';
import { zipSync } from 'fflate';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The handlers (functions/<name>.ts, each exporting `handler`); names are fixed by serverless.yml. */
const FUNCTION_NAMES = ['http-get-klines', 'http-get-coverage', 'http-get-datasets', 'cron-refresh', 'sqs-refresh-dataset', 'invoke-get-klines'];
/** Unzipped size budget of one function's code (index.mjs and its chunks), in bytes: 1.1 MB. */
const BUDGET_BYTES = 1_100_000;

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// KLINES_BUNDLE_DIR (an absolute folder) lets a test build the zips away from dist/. The folder is
// emptied first, so it must lie outside the repository: neither a relative path, nor the repository,
// nor a folder holding it, nor one inside it (lib/, test/, …) is accepted.
const OUT_DIR = process.env.KLINES_BUNDLE_DIR ? checkedOutDir(process.env.KLINES_BUNDLE_DIR) : path.join(REPO_ROOT, 'dist', 'functions');

/** True when `inner` is `outer` or lies inside it (both absolute). */
function within(inner, outer) {
  const relative = path.relative(outer, inner);
  return relative === '' || (relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative));
}

function checkedOutDir(dir) {
  if (!path.isAbsolute(dir) || within(REPO_ROOT, dir) || within(dir, REPO_ROOT)) {
    process.stderr.write(`bundle: KLINES_BUNDLE_DIR must be an absolute folder outside the repository (it is emptied first), not "${dir}"\n`);
    process.exit(2);
  }
  return dir;
}
// DOS time cannot go before 1980; a fixed stamp keeps the zips byte-identical between builds.
const ZIP_MTIME = new Date('1980-01-01T00:00:00Z');
// Unix host, regular file, rw-r--r--: Lambda needs the files world-readable.
const ZIP_ATTRS = { os: 3, attrs: (0o100644 << 16) >>> 0, mtime: ZIP_MTIME };

/**
 * One function's bundle in dist/functions/<name>/: index.mjs, and a chunk per dynamic import
 * (`chunks/`, ESM code splitting). A module a handler loads only when it needs it (got, through
 * lib/sources/lazy-http-client.ts, only when the cache lacks data) is then neither parsed nor
 * linked at cold start, and neither are the node builtins it imports (http, https, tls, net):
 * esbuild hoists a lazily-initialised module's imports to the top of a single-file bundle.
 */
async function bundleOne(name) {
  const dir = path.join(OUT_DIR, name);
  const result = await build({
    absWorkingDir: REPO_ROOT,
    entryPoints: { index: `functions/${name}.ts` },
    outdir: dir,
    outExtension: { '.js': '.mjs' },
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    // ESM builds of the SDK and Powertools first: they tree-shake, their CommonJS builds do not.
    mainFields: ['module', 'main'],
    minify: true,
    sourcemap: 'linked',
    sourcesContent: false,
    legalComments: 'none',
    metafile: true,
    // CommonJS dependencies (proper-lockfile, …) call require(); ESM output has none of its own.
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    logLevel: 'warning',
  });
  const files = Object.keys(result.metafile.outputs).map((file) => path.relative(dir, path.resolve(REPO_ROOT, file))).sort();
  const entries = {};
  let chunkBytes = 0;
  for (const file of files) {
    const bytes = await readFile(path.join(dir, file));
    entries[file] = [bytes, ZIP_ATTRS];
    if (file.startsWith('chunks/') && file.endsWith('.mjs')) chunkBytes += bytes.byteLength;
  }
  const startFiles = staticClosure(result.metafile, 'index.mjs');
  const startBytes = startFiles.reduce((sum, file) => sum + result.metafile.outputs[file].bytes, 0);
  const code = entries['index.mjs'][0];
  const map = entries['index.mjs.map'][0];
  const zip = zipSync(entries, { level: 9 });
  await writeFile(path.join(OUT_DIR, `${name}.zip`), zip);
  // The source files (repository-relative) whose code a cold start loads, for tests and reviews.
  const startInputs = [...new Set(startFiles.flatMap((file) => Object.keys(result.metafile.outputs[file].inputs)))].sort();
  return {
    name, bundleBytes: code.byteLength, startBytes, chunkBytes, mapBytes: map.byteLength, zipBytes: zip.byteLength,
    inputs: topInputs(result.metafile, startFiles), startInputs,
  };
}

async function bundleAll() {
  const missing = FUNCTION_NAMES.filter((name) => !existsSync(path.join(REPO_ROOT, 'functions', `${name}.ts`)));
  if (missing.length > 0) throw new Error(`bundle: missing handler file(s): ${missing.map((name) => `functions/${name}.ts`).join(', ')}`);
  await rm(OUT_DIR, { recursive: true, force: true });
  const rows = [];
  for (const name of FUNCTION_NAMES) rows.push(await bundleOne(name));
  await writeFile(path.join(OUT_DIR, 'sizes.json'), `${JSON.stringify({ budgetBytes: BUDGET_BYTES, functions: rows }, null, 2)}\n`);
  return rows;
}

/**
 * The outputs a cold start loads: `outputSuffix` and every chunk it imports statically, directly
 * or through another chunk (chunks reached only by a dynamic `import()` load on first use).
 */
function staticClosure(metafile, outputSuffix) {
  const [entry] = Object.keys(metafile.outputs).filter((file) => file.endsWith(outputSuffix));
  const seen = new Set([entry]);
  const queue = [entry];
  while (queue.length > 0) {
    for (const imported of metafile.outputs[queue.pop()].imports) {
      if (imported.kind === 'import-statement' && !imported.external && !seen.has(imported.path)) {
        seen.add(imported.path);
        queue.push(imported.path);
      }
    }
  }
  return [...seen];
}

/** The three packages contributing most bytes to `outputs` (metafile paths), e.g. `hyparquet 20 kB`. */
function topInputs(metafile, outputs) {
  const byPackage = new Map();
  for (const [input, { bytesInOutput }] of outputs.flatMap((file) => Object.entries(metafile.outputs[file].inputs))) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
    const name = match ? (match[1].startsWith('@aws-sdk/') || match[1].startsWith('@smithy/') ? '@aws-sdk+@smithy' : match[1]) : '(project)';
    byPackage.set(name, (byPackage.get(name) ?? 0) + bytesInOutput);
  }
  return [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([name, bytes]) => `${name} ${kb(bytes)}`).join(', ');
}

const kb = (bytes) => `${(bytes / 1000).toFixed(0)} kB`;

function printTable(rows) {
  const lines = [
    ['function', 'index.mjs', 'at start', 'chunks', 'budget', 'map', 'zip', 'largest inputs at start'],
    ...rows.map((row) => [row.name, kb(row.bundleBytes), kb(row.startBytes), kb(row.chunkBytes), `${((100 * (row.bundleBytes + row.chunkBytes)) / BUDGET_BYTES).toFixed(0)} %`, kb(row.mapBytes), kb(row.zipBytes), row.inputs]),
  ];
  const widths = lines[0].map((_, column) => Math.max(...lines.map((line) => line[column].length)));
  for (const line of lines) process.stdout.write(`${line.map((cell, column) => cell.padEnd(widths[column])).join('  ').trimEnd()}\n`);
}

let rows;
try {
  rows = await bundleAll();
} catch (error) {
  // esbuild has already printed its diagnostics (logLevel 'warning'); no stack trace on top.
  if (!error?.errors) process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
printTable(rows);
const over = rows.filter((row) => row.bundleBytes + row.chunkBytes > BUDGET_BYTES);
if (over.length > 0) {
  process.stderr.write(`bundle: over the ${kb(BUDGET_BYTES)} budget: ${over.map((row) => `${row.name} (${kb(row.bundleBytes + row.chunkBytes)})`).join(', ')}\n`);
  process.exit(1);
}
