import { createHash } from 'node:crypto';
import type { Fixture } from '../adapters/program/validate.ts';

/**
 * A fixture's digest: sha256 over its program, expectations and recorded differences. gradspec
 * writes it with every fixture it writes; a fixture whose content no longer matches was edited
 * by hand, and is reported until someone accepts the edit (`gradspec fixtures stamp`).
 */
export function digestOf(f: Pick<Fixture, 'program' | 'expected' | 'differences'>): string {
  return createHash('sha256').update(JSON.stringify([f.program, f.expected, f.differences ?? null])).digest('hex');
}

export const stamped = <F extends Fixture>(f: F): F => ({ ...f, digest: digestOf(f) });

/** null when the fixture is as gradspec wrote it; else why it is reported. */
export function editedByHand(f: Fixture): string | null {
  if (!f.digest) return 'has no digest (never written by gradspec)';
  return f.digest === digestOf(f) ? null : 'was edited by hand since gradspec wrote it (its digest no longer matches)';
}
