import { existsSync, readFileSync } from 'node:fs';
import { isClauseId } from '../spec/clauses.ts';

/**
 * Known deviations of an engine: clauses it is known to break, each with the reason. A deviating
 * clause is reported as a deviation, never as a pass; an entry whose clause does not fail is
 * reported as stale, so the list cannot rot. File: adapters/<engine>.deviations.json.
 */
export interface Deviation {
  clause: string;
  reason: string;
}

export function deviationsFile(engine: string): string {
  return new URL(`../adapters/${engine.replace(/[^A-Za-z0-9_.-]/g, '_')}.deviations.json`, import.meta.url).pathname;
}

export function loadDeviations(path: string): Deviation[] {
  if (!existsSync(path)) return [];
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`${path}: not valid JSON (${(e as Error).message})`);
  }
  const list = (json as { deviations?: unknown }).deviations;
  if (!Array.isArray(list)) throw new Error(`${path}: expected { "deviations": [{ "clause", "reason" }] }`);
  return list.map((d: unknown, i) => {
    const { clause, reason } = (d ?? {}) as Partial<Deviation>;
    if (typeof clause !== 'string' || !isClauseId(clause)) throw new Error(`${path}: /deviations/${i}/clause: '${String(clause)}' is not a clause id of the spec`);
    if (typeof reason !== 'string' || reason.trim() === '') throw new Error(`${path}: /deviations/${i}/reason must say why`);
    return { clause, reason };
  });
}
