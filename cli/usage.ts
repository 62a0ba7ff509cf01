import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { closest } from '../adapters/suggest.ts';
import { writeAtomic } from './write-atomic.ts';

/** A mistake in how gradspec was called: one line on stderr, exit 2 (0 conforms, 1 non-conformance). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A file's JSON, or a UsageError that names the file and says what is wrong with it. */
export function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new UsageError(`cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (e as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new UsageError(`${file}: not valid JSON (${(e as Error).message})`);
  }
}

/** A whole number as the user typed it (no 1e3, 0x10 or empty string), or undefined. */
export function integer(text: string): number | undefined {
  const n = Number(text);
  return /^\s*-?\d+\s*$/.test(text) && Number.isSafeInteger(n) ? n : undefined;
}

/** Why --only matched nothing: the closest id, or the checks of a clause given instead of a check. */
export function unknownOnly(id: string, fixtures: { id: string; clauses: string[] }[], properties: { id: string; clauses: readonly string[] }[]): string {
  const checks = [...properties, ...fixtures];
  const hint = closest(id, [...checks.map((c) => c.id), ...new Set(checks.flatMap((c) => c.clauses))]);
  return `--only: no fixture, property or clause matches '${id}'${hint ? ` (did you mean '${hint}'?)` : ''}`;
}

/**
 * Checks, before a long run, that an output file can be created: its folder exists and it is not
 * itself a folder. A report lost at the end of a run is worse than a refusal at its start.
 */
export function checkOutput(option: string, file: string | undefined): void {
  if (file === undefined) return;
  const folder = dirname(resolve(file));
  if (!existsSync(folder) || !statSync(folder).isDirectory()) throw new UsageError(`${option}: cannot write ${file}: no folder ${dirname(file)}`);
  if (existsSync(file) && statSync(file).isDirectory()) throw new UsageError(`${option}: cannot write ${file}: it is a folder`);
}

/** Writes an output file (atomically); a failure names the option and the file. */
export function writeOutput(option: string, file: string, text: string): void {
  try {
    writeAtomic(file, text);
  } catch (e) {
    throw new UsageError(`${option}: cannot write ${file}: ${(e as Error).message}`);
  }
}

/** The engines of `--engine a,b,c`: commas inside quotes belong to a command (`node -e "f(a,b)"`). */
export function splitEngines(list: string): string[] {
  const engines: string[] = [];
  let current = '';
  let quote: string | null = null;
  for (const ch of list) {
    if (quote) quote = ch === quote ? null : quote;
    else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === ',') {
      engines.push(current);
      current = '';
      continue;
    }
    current += ch;
  }
  return [...engines, current].map((e) => e.trim()).filter(Boolean);
}
