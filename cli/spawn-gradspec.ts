import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The gradspec command as the tests run it. Its fixtures are a copy without the deep-graph ones
 * (10^5 nodes, a second per run): the tests that spawn the CLI are about the command, not about
 * depth, and fixtures/fixtures.test.ts runs every fixture on the reference engine and PyTorch.
 */
const CLI = fileURLToPath(new URL('../bin/gradspec.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../', import.meta.url));

let copy: string | null = null;

/** A copy of fixtures/ without the deep-graph fixtures, made once per test process. */
export function shallowFixtures(): string {
  if (copy) return copy;
  copy = join(mkdtempSync(join(tmpdir(), 'gradspec-fixtures-')), 'fixtures');
  cpSync(fileURLToPath(new URL('../fixtures/', import.meta.url)), copy, { recursive: true, filter: (src) => !/backward\.iterative\.depth-/.test(src) && !BULK.test(src.replace(/\//g, '.')) });
  return copy;
}

/**
 * The views' bulk of recorded programs past the first 20 of each family: tests of the report's
 * mechanics (root causes, shards, mutants) leave them out to stay fast; `gradspec check`, the
 * fixture tests and CI run every one.
 */
export const BULK = /recorded\.(model\.views|gradient\.views\.inplace)\.(0[2-9]\d|[1-9]\d\d)\./;
export const mechanicsFixture = (f: { fixture: { id: string; clauses: string[] } }) =>
  !f.fixture.clauses.includes('backward.iterative') && !BULK.test(f.fixture.id);

/**
 * The environment of a spawned gradspec command: the compiled package (dist/, built by the tests'
 * global setup), as users run it. An engine given as a TypeScript module path needs the sources
 * run through tsx instead: `gradspecFromSources`.
 */
export const COMPILED = { GRADSPEC_DIST: '1' } as const;

export const gradspec = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], {
  encoding: 'utf8', timeout: 120_000, cwd: ROOT, env: { ...process.env, ...COMPILED, GRADSPEC_FIXTURES: shallowFixtures() },
});

/** `gradspec` without blocking the test process: the command runs while the test goes on. */
export const gradspecAsync = (...args: string[]) => new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve, reject) => {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: ROOT, env: { ...process.env, ...COMPILED, GRADSPEC_FIXTURES: shallowFixtures() }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  child.on('error', reject);
  child.on('close', (status) => resolve({ status, stdout, stderr }));
});

export const gradspecFromSources = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], {
  encoding: 'utf8', timeout: 120_000, cwd: ROOT, env: { ...process.env, GRADSPEC_FIXTURES: shallowFixtures() },
});
