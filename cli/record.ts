import fc from 'fast-check';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Fixture } from '../adapters/program/validate.ts';
import { validateFixture } from '../adapters/program/validate.ts';
import type { Adapter } from '../adapters/types.ts';
import type { AnyProperty } from '../properties/property.ts';
import type { Observation, Observations, Program, Step } from '../spec/program.ts';
import { stamped } from './digest.ts';
import { FIXTURE_ROOT } from './fixtures.ts';
import { writeAtomic } from './write-atomic.ts';

/**
 * Recorded fixtures: programs drawn from the property generators, run on an engine (real PyTorch),
 * stored with its observations and their provenance, so that every machine holds the reference
 * engine to that engine's behaviour, with or without it installed.
 */

/** Fields the spec leaves unspecified are not recorded (see fixtures/README.md). */
export function recordable(program: Program, observed: Observations): Observations {
  const refs: string[] = [];
  const walk = (steps: readonly Step[]) => {
    for (const s of steps) {
      if ('observe' in s) refs.push(s.observe);
      if ('noGrad' in s) walk(s.noGrad);
      if ('enableGrad' in s) walk(s.enableGrad);
    }
  };
  walk(program.steps);
  const observations = observed.observations.map((o, i): Observation => {
    if (!refs[i]?.endsWith('.grad')) return o;
    // How an engine materialises a fresh .grad (in place or not) is unspecified: no version.
    const { version: _unspecified, ...rest } = o;
    return rest;
  });
  return { observations, error: observed.error };
}

export interface RecordOptions {
  count: number;
  seed: number;
  date: string;
  properties: readonly AnyProperty[];
  onProgress?: (done: number, total: number) => void;
  /** The number of a property's first program (ids are `recorded.<property>.<number>`); 0 unless adding. */
  firstNumber?: (p: AnyProperty) => number;
}

/** Draws programs round-robin over the properties, so every property contributes, then runs them. */
export async function record(adapter: Adapter, options: RecordOptions): Promise<Fixture[]> {
  const perProperty = Math.ceil(options.count / options.properties.length);
  const drawn: { p: AnyProperty; program: Program; n: number }[] = [];
  const pools = options.properties.map((p, k) => {
    const samples = fc.sample(p.arbitrary, { seed: options.seed + k, numRuns: perProperty * 3 });
    return samples.filter((s) => !p.precondition || p.precondition(s)).flatMap((s) => p.programs(s));
  });
  for (let round = 0; drawn.length < options.count && pools.some((pool) => pool.length > round); round++) {
    pools.forEach((pool, k) => {
      const program = pool[round];
      if (program && drawn.length < options.count) drawn.push({ p: options.properties[k]!, program, n: round });
    });
  }
  const observed: Observations[] = [];
  const BATCH = 50;
  for (let i = 0; i < drawn.length; i += BATCH) {
    observed.push(...(await adapter.run(drawn.slice(i, i + BATCH).map((d) => d.program))));
    options.onProgress?.(Math.min(i + BATCH, drawn.length), drawn.length);
  }
  return drawn.map(({ p, program, n: round }, i) => {
    const n = round + (options.firstNumber?.(p) ?? 0);
    const id = `recorded.${p.id}.${String(n).padStart(3, '0')}${program.id.includes('.') ? `.${program.id.split('.').pop()}` : ''}`;
    const fixture: Fixture = {
      id,
      title: p.title,
      source: { recorded: { engine: adapter.name, version: adapter.version, seed: options.seed, date: options.date } },
      clauses: [...p.clauses],
      program: { ...program, id },
      expected: recordable(program, observed[i]!),
    };
    return validateFixture(stamped(fixture), `${id}.json`);
  });
}

/**
 * Replaces a folder of fixtures as one step: everything is written to a fresh folder first, then
 * swapped in by renames, so an interrupted run leaves the old folder intact.
 */
export function writeFixtureFolder(name: string, fixtures: readonly Fixture[]): string {
  const target = join(FIXTURE_ROOT, name);
  const staging = `${target}.staging-${process.pid}`;
  const old = `${target}.old-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const seen = new Set<string>();
  for (const f of fixtures) {
    if (seen.has(f.id)) throw new Error(`two recorded fixtures share the id ${f.id}`);
    seen.add(f.id);
    writeAtomic(join(staging, `${f.id.replace(/^recorded\./, '')}.json`), `${JSON.stringify(f, null, 2)}\n`);
  }
  if (existsSync(target)) renameSync(target, old);
  renameSync(staging, target);
  rmSync(old, { recursive: true, force: true });
  return target;
}

/** One past the highest number of a property's recorded fixtures already in the folder. */
export function nextRecordedNumber(p: AnyProperty, folder = join(FIXTURE_ROOT, 'recorded')): number {
  const numbers = existsSync(folder) ? readdirSync(folder)
    .filter((f) => f.startsWith(`${p.id}.`))
    .map((f) => Number(/^\.(\d+)\./.exec(f.slice(p.id.length))?.[1] ?? -1)) : [];
  return Math.max(-1, ...numbers) + 1;
}

/**
 * Adds recorded fixtures to fixtures/recorded/ one file each, written atomically; an id that is
 * already there is refused before anything is written, so re-recording cannot clobber a fixture.
 */
export function addRecorded(fixtures: readonly Fixture[], folder = join(FIXTURE_ROOT, 'recorded')): string[] {
  const paths = fixtures.map((f) => join(folder, `${f.id.replace(/^recorded\./, '')}.json`));
  const taken = paths.filter((p) => existsSync(p));
  if (taken.length > 0) throw new Error(`recorded fixtures already exist (record with another --seed, or delete them first): ${taken.join(', ')}`);
  fixtures.forEach((f, i) => writeAtomic(paths[i]!, `${JSON.stringify(f, null, 2)}\n`));
  return paths;
}
