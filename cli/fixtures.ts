import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ProgramError, validateFixture, type Fixture } from '../adapters/program/validate.ts';
import { editedByHand } from './digest.ts';
import { packagePath } from '../adapters/package-root.ts';

/** The fixtures folder; GRADSPEC_FIXTURES points elsewhere (a copy, for trying a regeneration). */
export const FIXTURE_ROOT = process.env.GRADSPEC_FIXTURES ? `${process.env.GRADSPEC_FIXTURES.replace(/\/$/, '')}/` : `${packagePath('fixtures')}/`;

/** Every `*.json` fixture below `root`, validated, with its path relative to the fixtures folder. */
export function loadFixtures(root = FIXTURE_ROOT): { file: string; path: string; fixture: Fixture; edited: string | null }[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      // Folders a recording or regeneration writes before swapping them in are not fixtures yet.
      if (/\.(staging|old)-\d+$/.test(name)) continue;
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.json')) files.push(path);
    }
  };
  walk(root);
  return files.map((path) => {
    const file = `fixtures/${relative(root, path)}`;
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(path, 'utf8'));
    } catch (e) {
      throw new ProgramError([{ path: '', message: `is not valid JSON (${(e as Error).message}): the file is corrupt` }], file);
    }
    const fixture = validateFixture(json, file);
    return { file, path, fixture, edited: editedByHand(fixture) };
  });
}

/**
 * The expectations for an engine that follows `profile`: where the seed document printed
 * something else, the recorded difference supplies that profile's value. Returns the notes.
 */
export function expectationsFor(fixture: Fixture, profile: string): { expected: Fixture['expected']; notes: string[] } {
  const expected = structuredClone(fixture.expected);
  const notes: string[] = [];
  for (const d of fixture.differences ?? []) {
    if (!(profile in d.expected)) continue;
    const obs = expected.observations.find((o) => o.label === d.label);
    if (!obs) throw new Error(`${fixture.id}: difference names unknown observation '${d.label}'`);
    (obs as unknown as Record<string, unknown>)[d.field] = d.expected[profile];
    notes.push(`${d.label}.${d.field}: the document prints ${JSON.stringify(d.document)}, ${profile} prints ${JSON.stringify(d.expected[profile])} (${d.reason})`);
  }
  return { expected, notes };
}
