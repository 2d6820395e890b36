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
  sourcemap: true,
  packages: 'external',
  logLevel: 'warning',
});
