// Bundles the `klines` CLI into dist/ so `npx klines` works right after `npm ci`
// (npm runs this as the `prepare` script). Lambda bundles are built by infra/.
import { build } from 'esbuild';

await build({
  entryPoints: { 'klines': 'cli/main.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'esm',
  // Commands import their code when they run: split chunks keep `klines --help` from loading it.
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  sourcemap: true,
  packages: 'external',
  logLevel: 'warning',
});
