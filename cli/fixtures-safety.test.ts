import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { COMPILED, shallowFixtures } from './spawn-gradspec.ts';

const CLI = fileURLToPath(new URL('../bin/gradspec.js', import.meta.url));
const run = (fixtures: string, ...args: string[]) =>
  spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...COMPILED, GRADSPEC_FIXTURES: fixtures } });
/** Every .json file under dir with its content: what a reader of the fixtures sees. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.json')) out[p.slice(dir.length)] = readFileSync(p, 'utf8');
    }
  };
  walk(dir);
  return out;
}

/** A fresh copy of the fixtures the CLI tests use, to damage. */
const copy = () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'gradspec-safety-')), 'fixtures');
  cpSync(shallowFixtures(), dir, { recursive: true });
  return dir;
};

describe('fixtures are never lost', () => {
  test('program.schema a corrupt fixture is reported with its file, and nothing runs', () => {
    const dir = copy();
    writeFileSync(join(dir, 'spec/op.exp.json'), '{"id": "spec.op.exp", "title": ');
    const r = run(dir, 'check', '--runs', '1');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/fixtures\/spec\/op\.exp\.json: .*not valid JSON.*corrupt/);
  });

  test('program.schema a fixture edited by hand is reported until the edit is stamped', () => {
    const dir = copy();
    const file = join(dir, 'spec/op.exp.json');
    const fixture = JSON.parse(readFileSync(file, 'utf8')) as { title: string; expected: { observations: { label: string; value?: unknown }[] } };
    fixture.expected.observations[0]!.value = [1, 2, 3, 4];
    writeFileSync(file, JSON.stringify(fixture, null, 2));
    const edited = run(dir, 'fixtures', 'check');
    expect(edited.status).toBe(1);
    expect(edited.stdout).toMatch(/EDITED fixtures\/spec\/op\.exp\.json was edited by hand/);
    expect(run(dir, 'fixtures', 'stamp', 'fixtures/spec/op.exp.json').status).toBe(0);
    const stamped = run(dir, 'fixtures', 'check');
    expect(stamped.stdout).not.toMatch(/EDITED/);
    expect(stamped.stdout).toMatch(/1 drifted/); // the edit itself now shows as drift from the engine
  });

  test('program.schema a regeneration killed while it writes leaves every old fixture intact', () => {
    const dir = copy();
    const before = snapshot(dir);
    // A file-size limit makes the first fixture write fail (EFBIG) or kills the process
    // (SIGXFSZ): either way the regeneration is interrupted while it writes.
    const cmd = `ulimit -f 1; exec "${process.execPath}" "${CLI}" fixtures regenerate --engine mutant:old-mean-name`;
    const r = spawnSync('bash', ['-c', cmd], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...COMPILED, GRADSPEC_FIXTURES: dir } });
    expect(r.signal === 'SIGXFSZ' || /EFBIG|file too large/i.test(r.stderr)).toBe(true);
    expect(r.stdout).toMatch(/^--- fixtures\//m); // it had shown the diff and started writing
    expect(snapshot(dir)).toEqual(before);
    expect(run(dir, 'fixtures', 'check').stdout).toMatch(/457 of 457 fixtures hold|fixtures hold on reference/);
  });

  test('program.observations the same seed gives a byte-identical JSON report', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'gradspec-det-')), '');
    const [a, b] = [join(dir, 'a.json'), join(dir, 'b.json')];
    const fixtures = copy();
    run(fixtures, 'check', '--runs', '10', '--seed', '7', '--shard', '2/12', '--json', a);
    run(fixtures, 'check', '--runs', '10', '--seed', '7', '--shard', '2/12', '--json', b);
    expect(readFileSync(a, 'utf8').length).toBeGreaterThan(1000);
    expect(readFileSync(a)).toEqual(readFileSync(b));
  });
});
