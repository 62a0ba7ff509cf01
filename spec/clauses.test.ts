import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { collectCitations, withCheckedBy } from '../cli/citations.ts';
import { CLAUSES } from './clauses.ts';

const markdown = readFileSync(new URL('./autograd.md', import.meta.url), 'utf8');
const citations = collectCitations();

describe('the spec and its citations', () => {
  test('program.schema clauses.ts lists exactly the clause headings of autograd.md, in order', () => {
    const headings = [...markdown.matchAll(/^### `([a-z0-9.-]+)`/gm)].map((m) => m[1]);
    expect(headings).toEqual([...CLAUSES]);
    expect(new Set(CLAUSES).size).toBe(CLAUSES.length);
  });

  test('program.schema every clause is cited by at least one test or fixture', () => {
    const uncited = CLAUSES.filter((c) => (citations.byClause.get(c) ?? []).length === 0);
    expect(uncited).toEqual([]);
  });

  test('program.schema every test title and fixture cites a clause that exists', () => {
    expect(citations.strays).toEqual([]);
  });

  test('program.schema the "Checked by" lines of autograd.md are up to date (npm run spec:index rewrites them)', () => {
    expect(withCheckedBy(markdown, citations)).toBe(markdown);
  });
});
