#!/usr/bin/env node
// Entry point of the `klines` command: runs the bundle that `npm run build` (npm's prepare) writes.
import { main } from '../dist/klines.mjs';

process.exitCode = await main(process.argv.slice(2));
