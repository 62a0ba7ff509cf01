// `npm test`: the type check and vitest side by side (each keeps one of two cores busy while the
// other starts), then one summary. vitest's own last line says "N passed, N failed"; a failed type
// check is printed after it and counted as one more failure in a last line of the same form, so
// the final line always tells the whole result.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const tsc = require.resolve('typescript/bin/tsc');
const vitest = fileURLToPath(new URL('../../node_modules/vitest/vitest.mjs', import.meta.url));

const typecheck = new Promise((done) => {
  const child = spawn(process.execPath, [tsc, '--noEmit', '-p', '.'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  child.on('close', (code) => done({ code: code ?? 1, output }));
});

const tests = new Promise((done) => {
  const child = spawn(process.execPath, [vitest, 'run', ...process.argv.slice(2)], { stdio: ['inherit', 'pipe', 'pipe'] });
  let tail = '';
  const forward = (to) => (d) => {
    to.write(d);
    tail = (tail + d).slice(-4096);
  };
  child.stdout.on('data', forward(process.stdout));
  child.stderr.on('data', forward(process.stderr));
  child.on('close', (code) => done({ code: code ?? 1, tail }));
});

const [checked, ran] = await Promise.all([typecheck, tests]);
if (checked.code !== 0) {
  process.stdout.write(`\ntype check failed (tsc --noEmit -p .):\n${checked.output}`);
  const last = [...ran.tail.matchAll(/^(\d+) passed, (\d+) failed(.*)$/gm)].pop();
  process.stdout.write(last ? `${last[1]} passed, ${Number(last[2]) + 1} failed${last[3]}\n` : '0 passed, 1 failed\n');
}
process.exit(checked.code !== 0 ? 1 : ran.code);
