import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { CLAUSES } from '../spec/clauses.ts';
import { PROPERTIES } from '../properties/index.ts';
import { loadFixtures } from './fixtures.ts';

/**
 * Who cites which clause: test titles (which start with the clause id they check), fixtures
 * (their `clauses` list) and properties (theirs). The coverage test and the "Checked by" lines of spec/autograd.md use it.
 */
export const ROOT = new URL('../', import.meta.url).pathname;
const SKIP = new Set(['node_modules', '.git', '.stryker-tmp']);

/** A test or it call with a literal title: `test('id rest'`, `it.skipIf(c)("id rest"` and so on. */
const TITLE = /\b(?:test|it)(?:\.[A-Za-z]+(?:\([^()]*\))?)*\(\s*(['"`])([^'"`]*)\1/g;
const ID = /^([a-z][a-z0-9-]*(?:\.[a-z0-9-]+)+)(?: |$)/;

function testFiles(dir = ROOT): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (SKIP.has(name) || name.startsWith('.')) continue; // hidden folders: tool sandboxes, not the project
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...testFiles(path));
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

export interface Citations {
  /** clause id → files that cite it, sorted. */
  byClause: Map<string, string[]>;
  /** Literal test titles that do not start with a known clause id. */
  strays: { file: string; title: string }[];
}

export function collectCitations(): Citations {
  const byClause = new Map<string, Set<string>>(CLAUSES.map((c) => [c, new Set<string>()]));
  const strays: Citations['strays'] = [];
  for (const path of testFiles()) {
    const file = relative(ROOT, path);
    for (const m of readFileSync(path, 'utf8').matchAll(TITLE)) {
      const title = m[2]!;
      if (title.startsWith('%')) continue; // titles made from fixtures: the fixtures cite
      const id = ID.exec(title)?.[1];
      const cited = id ? byClause.get(id) : undefined;
      if (cited) cited.add(file);
      else strays.push({ file, title });
    }
  }
  for (const { file, fixture } of loadFixtures()) {
    for (const id of fixture.clauses) {
      const cited = byClause.get(id);
      if (cited) cited.add(file);
      else strays.push({ file, title: `clause ${id}` });
    }
  }
  for (const p of PROPERTIES) {
    for (const id of p.clauses) byClause.get(id)?.add(`property:${p.id}`);
  }
  return { byClause: new Map([...byClause].map(([k, v]) => [k, [...v].sort()])), strays };
}

/** The "Checked by:" line for a clause, as spec/autograd.md shows it. */
export function checkedByLine(files: readonly string[]): string {
  if (files.length === 0) return 'Checked by: —';
  const fixtures = files.filter((f) => f.startsWith('fixtures/') && f.endsWith('.json'));
  const properties = files.filter((f) => f.startsWith('property:')).map((f) => f.slice('property:'.length));
  const tests = files.filter((f) => !fixtures.includes(f) && !f.startsWith('property:'));
  const parts = [...tests.map((f) => `\`${f}\``), ...properties.map((p) => `property \`${p}\``)];
  if (fixtures.length > 0) {
    const shown = fixtures.slice(0, 4).map((f) => `\`${f}\``);
    parts.push(fixtures.length > 4 ? `${shown.join(', ')} and ${fixtures.length - 4} more fixtures` : shown.join(', '));
  }
  return `Checked by: ${parts.join(', ')}`;
}

const CHECKED_BY = /^### `([a-z0-9.-]+)`[^\n]*\n(?:(?!### )[\s\S])*?^Checked by:.*$/gm;

/** Rewrites every "Checked by:" line of the spec from the citations. */
export function withCheckedBy(markdown: string, citations: Citations): string {
  return markdown.replace(CHECKED_BY, (block, id: string) =>
    block.replace(/^Checked by:.*$/m, checkedByLine(citations.byClause.get(id) ?? [])));
}
