import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { benchColdStart } from './cold-start.ts';
const run = promisify(execFile);
const bare: number[] = [];
for (let i = 0; i < 10; i++) { const t = performance.now(); await run(process.execPath, ['-e', '0']); bare.push(performance.now() - t); }
bare.sort((a, b) => a - b);
console.log('bare node -e 0 median', bare[5]!.toFixed(0));
for (const r of await benchColdStart(5)) console.log(r.name, r.bundleBytes, 'import', r.importMedianMs.toFixed(0), 'process', r.processMedianMs.toFixed(0), 'ratio', (r.processMedianMs / bare[5]!).toFixed(2));
