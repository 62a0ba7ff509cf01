import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { COMPILED } from '../../cli/spawn-gradspec.ts';
import { describe, expect, test } from 'vitest';
import { loadFixtures } from '../../cli/fixtures.ts';
import { runSuite } from '../../cli/suite.ts';
import { OP_PROPERTIES } from '../../properties/ops.ts';
import { defaultHeartbeat, processAdapter } from '../process.ts';
import { referenceAdapter } from '../reference/index.ts';
import type { Adapter } from '../types.ts';

const ENGINE = fileURLToPath(new URL('./faulty-engine.ts', import.meta.url));
const CLI = fileURLToPath(new URL('../../bin/gradspec.js', import.meta.url));
const ops = (ids: string[]) => loadFixtures().filter((f) => ids.includes(f.fixture.id));
const property = (id: string) => OP_PROPERTIES.find((p) => p.id === id)!;
// Tests in other files run faulty engines at the same time: count only this file's.
const MARK = `mark:faults-${process.pid}`;
const faultyProcesses = () => spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.includes('faulty-engine.ts') && l.includes(MARK)).length;

describe('faulty engines', () => {
  test('errors.class an engine that crashes, hangs, prints garbage or answers wrongly faults only the programs concerned, and leaves no process behind', async () => {
    const adapter = await processAdapter([process.execPath, '--import', 'tsx', ENGINE, MARK, 'crash:sin', 'hang:cos', 'garbage:tan', 'short:exp', 'malformed:log', 'throw:sqrt', 'nan:tanh'], { batchTimeoutMs: 1_000 });
    const fixtures = ops(['spec.op.sin', 'spec.op.cos', 'spec.op.tan', 'spec.op.exp', 'spec.op.log', 'spec.op.sqrt', 'spec.op.tanh', 'spec.op.neg', 'spec.op.abs', 'document.one-step']);
    const report = await runSuite(adapter, fixtures, { runs: 10, properties: [property('gradient.op.sin'), property('gradient.op.neg')] });
    await adapter.close?.();
    const check = (id: string) => report.checks.find((c) => c.id === id)!;
    expect(check('spec.op.sin').message).toMatch(/engine process exited \(code 7\)/);
    expect(check('spec.op.cos').message).toMatch(/did not answer a batch of 1 program within 1000 ms/);
    expect(check('spec.op.tan').message).toMatch(/not a protocol message: Segmentation fault/);
    expect(check('spec.op.exp').message).toMatch(/answered 0 results for 1 programs/);
    expect(check('spec.op.log').message).toMatch(/malformed observations for program spec\.op\.log/);
    expect(check('spec.op.sqrt').message).toMatch(/the engine reported: internal error/);
    expect(check('spec.op.tanh').message).toMatch(/the engine printed invalid JSON \(Unexpected token 'N' at position \d+\): .*"value":\[1, NaN, 2\].*; NaN, infinities and negative zero are spelled as the strings "nan", "inf", "-inf" and "-0"/);
    expect(check('gradient.op.sin').status).toBe('fault');
    // Everything the faults do not touch still runs and passes, after the engine was restarted.
    expect(['spec.op.neg', 'spec.op.abs', 'document.one-step', 'gradient.op.neg'].map((id) => check(id).status)).toEqual(['pass', 'pass', 'pass', 'pass']);
    expect(report.clauses.find((c) => c.id === 'op.sin')?.status).toBe('fault');
    expect(report.clauses.find((c) => c.id === 'op.neg')?.status).toBe('pass');
    expect(faultyProcesses()).toBe(0);
  }, 60_000);

  test('errors.class a hung batch says so on every heartbeat, and its programs are retried alone with a short timeout, not the full one', async () => {
    const batchTimeoutMs = 3_000;
    const lines: string[] = [];
    let started = Date.now();
    const adapter = await processAdapter([process.execPath, '--import', 'tsx', ENGINE, MARK, 'hang:cos'], {
      batchTimeoutMs, retryFloorMs: 1_000, heartbeatMs: 1_200, heartbeat: (line) => lines.push(line),
    });
    const startup = Date.now() - started;
    const ids = ['spec.op.cos', 'spec.op.sin', 'spec.op.tan', 'spec.op.exp', 'spec.op.log', 'spec.op.sqrt', 'spec.op.tanh', 'spec.op.neg', 'spec.op.abs', 'document.one-step'];
    started = Date.now();
    const report = await runSuite(adapter, ops(ids), { runs: 1 });
    const elapsed = Date.now() - started;
    await adapter.close?.();
    const check = (id: string) => report.checks.find((c) => c.id === id)!;
    // Alone, a program gets its share of the batch's 3 s (300 ms each for 10), at least the floor.
    expect(check('spec.op.cos').message).toMatch(/did not answer a batch of 1 program within 1000 ms/);
    expect(ids.slice(1).map((id) => check(id).status)).toEqual(ids.slice(1).map(() => 'pass'));
    // Waiting twice in full would cost two timeouts plus two restarts and ten runs alone; now it is
    // one timeout and 1 s. The bound allows for restarts on a loaded machine (each about a startup).
    expect(elapsed).toBeLessThan(2 * batchTimeoutMs + 3 * startup);
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines[0]).toMatch(/^gradspec: still waiting for faulty: batch of 10 programs, \d+(\.\d)? s \(timeout 3 s\)$/);
    expect(lines.every((l) => l.includes('batch of 10 programs'))).toBe(true); // runs alone end before a heartbeat
    expect(faultyProcesses()).toBe(0);
  }, 30_000);

  test('errors.class heartbeats go to stderr only on a terminal or in CI', () => {
    const written: string[] = [];
    const stream = (isTTY: boolean) => ({ isTTY, write: (t: string) => written.push(t) });
    expect(defaultHeartbeat(stream(false), {})).toBeNull();
    expect(defaultHeartbeat(stream(false), { CI: 'false' })).toBeNull();
    defaultHeartbeat(stream(false), { CI: 'true' })!('waiting');
    defaultHeartbeat(stream(true), {})!('waiting');
    expect(written).toEqual(['waiting\n', '\r\u001b[Kwaiting\n']);
  });

  test('errors.class through the CLI: --only with an engine fault prints ENGINE FAULT and exits 2, without a stack trace', () => {
    const engine = `${process.execPath} --import tsx ${ENGINE} ${MARK} crash:sin`;
    const run = spawnSync(process.execPath, [CLI, 'check', '--engine', engine, '--only', 'spec.op.sin'], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...COMPILED } });
    expect(run.status).toBe(2);
    expect(run.stdout).toMatch(/ENGINE FAULT spec\.op\.sin .*engine process exited \(code 7\)/);
    expect(run.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(faultyProcesses()).toBe(0);
  });

  test('errors.class an in-process adapter that throws is an engine fault for its checks, not a crash of gradspec', async () => {
    const throwing: Adapter = {
      ...referenceAdapter,
      name: 'throwing',
      run: async (programs) => {
        if (programs.some((p) => JSON.stringify(p).includes('"reciprocal"'))) throw new TypeError('Cannot read properties of undefined');
        return referenceAdapter.run(programs);
      },
    };
    const report = await runSuite(throwing, ops(['spec.op.reciprocal', 'spec.op.neg']), { runs: 5, properties: [property('gradient.op.reciprocal')] });
    expect(report.checks.map((c) => [c.id, c.status])).toEqual([
      ['spec.op.neg', 'pass'], ['spec.op.reciprocal', 'fault'], ['gradient.op.reciprocal', 'fault'],
    ]);
    expect(report.checks[1]!.message).toMatch(/TypeError: Cannot read properties of undefined/);
  });
});
