import { existsSync, readFileSync } from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';
import { CLAUSES, isClauseId } from '../spec/clauses.ts';
import { packagePath } from '../adapters/package-root.ts';
import { closest } from '../adapters/suggest.ts';

/**
 * Known deviations of an engine: clauses it is known to break, each with the reason. A deviating
 * clause is reported as a deviation, never as a pass; an entry whose clause does not fail is
 * reported as stale, so the list cannot rot. File: adapters/<engine>.deviations.json.
 */
export interface Deviation {
  clause: string;
  reason: string;
}

/** A deviations file that is missing (when given explicitly) or malformed: a usage error. */
export class DeviationsError extends Error {
  override readonly name = 'DeviationsError';
}

export function deviationsFile(engine: string): string {
  return packagePath('adapters', `${engine.replace(/[^A-Za-z0-9_.-]/g, '_')}.deviations.json`);
}

const SHAPE = {
  type: 'object',
  required: ['deviations'],
  additionalProperties: false,
  properties: {
    deviations: {
      type: 'array',
      items: {
        type: 'object',
        required: ['clause', 'reason'],
        additionalProperties: false,
        properties: { clause: { type: 'string' }, reason: { type: 'string', pattern: '\\S' } },
      },
    },
  },
} as const;

let validate: ReturnType<Ajv['compile']> | undefined;

function describe(e: ErrorObject): string {
  const at = e.instancePath || '(root)';
  if (e.keyword === 'additionalProperties') {
    const key = String((e.params as { additionalProperty: string }).additionalProperty);
    const hint = closest(key, e.instancePath === '' ? ['deviations'] : ['clause', 'reason']);
    return `${at}: unknown key '${key}'${hint ? ` (did you mean '${hint}'?)` : ''}`;
  }
  if (e.keyword === 'pattern') return `${at} must say why (it is empty)`;
  return `${at} ${e.message ?? 'is invalid'}`;
}

/**
 * Reads a deviations file: `{ "deviations": [{ "clause", "reason" }] }`. A missing file is no
 * deviations, unless `required` (the user named it with --deviations): then it is an error, so
 * a mistyped path cannot turn every deviation into a failure without a word.
 */
export function loadDeviations(path: string, { required = false }: { required?: boolean } = {}): Deviation[] {
  if (!existsSync(path)) {
    if (required) throw new DeviationsError(`--deviations: no such file: ${path}`);
    return [];
  }
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new DeviationsError(`${path}: not valid JSON (${(e as Error).message})`);
  }
  validate ??= new Ajv({ allErrors: true }).compile(SHAPE);
  if (!validate(json)) {
    const problems = (validate.errors ?? []).map(describe);
    throw new DeviationsError(`${path}: ${problems.join('; ')} (expected { "deviations": [{ "clause": "<clause id>", "reason": "<why>" }] })`);
  }
  const list = (json as { deviations: Deviation[] }).deviations;
  list.forEach(({ clause }, i) => {
    if (isClauseId(clause)) return;
    const hint = closest(clause, CLAUSES);
    throw new DeviationsError(`${path}: /deviations/${i}/clause: '${clause}' is not a clause id of the spec${hint ? ` (did you mean '${hint}'?)` : ''}`);
  });
  return list.map(({ clause, reason }) => ({ clause, reason }));
}
