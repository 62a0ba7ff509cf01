import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { referenceAdapter } from '../adapters/reference/index.ts';
import { MUTANTS } from '../adapters/mutants.ts';
import type { Adapter } from '../adapters/types.ts';
import { check, UsageError } from './check-api.ts';
import { isEngineClause } from './exercise.ts';
import { gradspec } from './spawn-gradspec.ts';

const tmp = mkdtempSync(join(tmpdir(), 'gradspec-api-'));

/** The reference engine without in-place ops: clauses about them are n/a. */
const noInplace: Adapter = {
  ...referenceAdapter,
  name: 'no-inplace',
  capabilities: { ...referenceAdapter.capabilities, features: referenceAdapter.capabilities.features.filter((f) => f !== 'inplace') },
};

describe('check(), the API of gradspec check', () => {
  test('program.observations check() on the reference engine conforms: exit 0, every engine clause checked and passed', async () => {
    const { report, exitCode, reasons } = await check('reference', { runs: 5 });
    expect(exitCode).toBe(0);
    expect(reasons).toEqual([]);
    const engineClauses = report.clauses.filter((c) => isEngineClause(c.id));
    expect(report.summary.checked).toBe(engineClauses.length);
    expect(engineClauses.every((c) => c.status === 'pass' && c.exercised > 0)).toBe(true);
    expect(report.runs).toBe(5);
  });

  test('program.observations check() on a mutant exits 1, the first root cause is the clause its bug breaks, and the report is the one of gradspec check --json', async () => {
    const { report, exitCode, reasons } = await check('mutant:pow-exponent-2', { runs: 5, only: 'spec.op.pow' });
    expect(exitCode).toBe(1);
    expect(report.rootCauses[0]!.clause).toBe(MUTANTS['pow-exponent-2']!.breaks);
    expect(report.rootCauses[0]!.replay).toBe('npx gradspec check --engine mutant:pow-exponent-2 --only spec.op.pow');
    expect(reasons).toContainEqual({ kind: 'failed', clause: 'op.pow', message: 'clause op.pow failed' });
    const json = join(tmp, 'report.json');
    const cli = gradspec('check', '--engine', 'mutant:pow-exponent-2', '--only', 'spec.op.pow', '--runs', '5', '--json', json);
    expect(cli.status).toBe(exitCode);
    expect(JSON.parse(readFileSync(json, 'utf8'))).toEqual(JSON.parse(JSON.stringify(report)));
  });

  test('program.observations check() on an engine that supports nothing exits 2: nothing checked', async () => {
    const { report, exitCode, reasons } = await check('adapters/testing/supports-nothing.ts', { runs: 5, only: 'document.one-step' });
    expect(exitCode).toBe(2);
    expect(report.summary.checked).toBe(0);
    expect(reasons.map((r) => r.kind)).toEqual(['nothing-checked']);
  });

  test('program.observations check() with require: an n/a required clause exits 1 with the reason; a pattern naming no clause is refused', async () => {
    const { report, exitCode, reasons } = await check(noInplace, { runs: 5, only: 'spec.op.pow', require: 'op.pow, inplace.version-*' });
    expect(report.clauses.find((c) => c.id === 'inplace.version-counter')).toMatchObject({ status: 'not-applicable', reason: 'needs inplace' });
    expect(report.summary.failed).toBe(0);
    expect(exitCode).toBe(1);
    expect(reasons).toEqual([{ kind: 'unmet-requirement', clause: 'inplace.version-counter', message: 'required clause inplace.version-counter was not checked: needs inplace' }]);
    const typo = check(noInplace, { only: 'spec.op.pow', require: ['op.poww'] });
    await expect(typo).rejects.toThrow(UsageError);
    await expect(typo).rejects.toThrow(/^require: unknown clause 'op\.poww' \(did you mean 'op\.pow'\?\)/);
  });

  test('program.observations check() takes deviations as a list, and refuses bad options before it runs', async () => {
    const { report, exitCode } = await check('mutant:old-mean-name', {
      runs: 5, only: 'spec.op.mean', deviations: [{ clause: 'graph.grad-fn', reason: 'prints the older MeanBackward1 name' }],
    });
    expect(exitCode).toBe(0);
    expect(report.clauses.find((c) => c.id === 'graph.grad-fn')).toMatchObject({ status: 'deviation', reason: 'prints the older MeanBackward1 name' });
    await expect(check('reference', { deviations: [{ clause: 'graph.grad-fm', reason: 'x' }] })).rejects.toThrow(/'graph\.grad-fm' is not a clause id of the spec \(did you mean 'graph\.grad-fn'\?\)/);
    await expect(check('reference', { deviations: join(tmp, 'none.json') })).rejects.toThrow(/no such file/);
    await expect(check('reference', { runs: 0 })).rejects.toThrow(/^runs must be a positive integer, got '0'$/);
    await expect(check('reference', { shard: '3/2' })).rejects.toThrow(/^shard takes i\/n/);
    await expect(check('refrence')).rejects.toThrow(/did you mean 'reference'/);
  });

  test('program.observations check() closes the process of an out-of-process engine it started, also when the run throws', async () => {
    const marker = `gradspec-api-close-${process.pid}-${Date.now()}`;
    const engine = `${process.execPath} --import tsx adapters/serve.ts reference ${marker}`;
    const alive = () => spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.includes(marker) && !l.includes('ps -eo')).length;
    let seen = 0;
    await expect(check(engine, {
      runs: 5, only: 'spec.op.pow',
      onProgress: () => {
        seen = alive();
        throw new Error('stopped by the test');
      },
    })).rejects.toThrow('stopped by the test');
    expect(seen).toBe(1);
    expect(alive()).toBe(0);
  });
});
