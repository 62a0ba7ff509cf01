import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { COMPILED, shallowFixtures } from './spawn-gradspec.ts';

const CLI = fileURLToPath(new URL('../bin/gradspec.js', import.meta.url));
// The fixtures without the deep-graph ones (a second each to load and run; see spawn-gradspec.ts):
// these tests are about drift and rewriting, which the mean fixtures show.
const run = (env: Record<string, string>, ...args: string[]) =>
  spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...COMPILED, GRADSPEC_FIXTURES: shallowFixtures(), ...env } });

describe('gradspec fixtures', () => {
  test('graph.grad-fn fixtures check shows drift as a diff and exits 1', () => {
    const r = run({}, 'fixtures', 'check', '--engine', 'mutant:old-mean-name');
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('--- fixtures/spec/op.mean.json');
    expect(r.stdout).toMatch(/gradFn\n {4}- "MeanBackward0"\n {4}\+ "MeanBackward1"/);
    expect(r.stdout).toMatch(/fixtures hold on mutant:old-mean-name 0\.1\.0; \d+ drifted/);
  });

  test('graph.grad-fn fixtures regenerate rewrites computed expectations, never the document\'s, and keeps the chosen fields', () => {
    const copy = join(mkdtempSync(join(tmpdir(), 'gradspec-fixtures-')), 'fixtures');
    cpSync(shallowFixtures(), copy, { recursive: true });
    const before = readFileSync(join(copy, 'document/multiple-steps.json'), 'utf8');
    const r = run({ GRADSPEC_FIXTURES: copy }, 'fixtures', 'regenerate', '--engine', 'mutant:old-mean-name');
    expect(r.status).toBe(1); // a document fixture drifted: reported, not rewritten
    expect(r.stdout).toContain('(a document fixture: verified, never rewritten)');
    expect(readFileSync(join(copy, 'document/multiple-steps.json'), 'utf8')).toBe(before);
    const mean = JSON.parse(readFileSync(join(copy, 'spec/op.mean.json'), 'utf8')) as { expected: { observations: { label: string; gradFn?: string; version?: number }[] }; source: { recorded: { engine: string } } };
    expect(mean.expected.observations.find((o) => o.label === 'a')?.gradFn).toBe('MeanBackward1');
    expect(mean.source.recorded.engine).toBe('mutant:old-mean-name');
    // A field left out on purpose (the version of a .grad) stays out.
    const grad = mean.expected.observations.find((o) => o.label === 'x.grad')!;
    expect('version' in grad).toBe(false);
    // After the rewrite, the copy holds on the mutant except for the document fixture.
    const after = run({ GRADSPEC_FIXTURES: copy }, 'fixtures', 'check', '--engine', 'mutant:old-mean-name');
    expect(after.stdout).toMatch(/; 1 drifted\n$/);
  });
});
