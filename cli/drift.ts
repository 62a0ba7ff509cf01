import { gradientLabels } from './exercise.ts';
import type { Fixture } from '../adapters/program/validate.ts';
import { compareObservations, type Mismatch } from '../oracles/observations.ts';
import type { Observation, Observations } from '../spec/program.ts';
import { expectationsFor } from './fixtures.ts';

/** What a fixture expects versus what an engine now does: the drift, as readable lines. */
export function drift(fixture: Fixture, observed: Observations, profile: string, fields: readonly string[]): Mismatch[] {
  // Judged as `check` judges it: the sign of a zero gradient is open.
  return compareObservations(expectationsFor(fixture, profile).expected, observed, fields, profile.startsWith('pytorch'), gradientLabels(fixture.program));
}

export function formatDrift(file: string, mismatches: readonly Mismatch[]): string {
  const lines = [`--- ${file}`];
  for (const m of mismatches) {
    lines.push(`  ${m.label} ${m.field}${m.detail ? `: ${m.detail}` : ''}`);
    lines.push(`    - ${JSON.stringify(m.expected)}`, `    + ${JSON.stringify(m.actual)}`);
  }
  return lines.join('\n');
}

/**
 * New expectations from an engine's observations, keeping the fields the fixture chose to expect
 * (a field left out on purpose stays out). A changed count of observations or a changed error is
 * taken whole, and shows in the drift printed before anything is written.
 */
export function regenerated(fixture: Fixture, observed: Observations): Observations {
  const old = fixture.expected.observations;
  if (observed.observations.length !== old.length) return observed;
  const observations = observed.observations.map((o, i): Observation => {
    const keep = old[i]!;
    if (o.none || keep.none) return o;
    const picked: Record<string, unknown> = { label: o.label };
    for (const key of Object.keys(keep)) if (key !== 'label' && key in o) picked[key] = (o as unknown as Record<string, unknown>)[key];
    return picked as unknown as Observation;
  });
  return { observations, error: observed.error };
}
