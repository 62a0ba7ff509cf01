import { CLAUSE_SUBJECTS } from '../spec/clause-subjects.ts';
import { CLAUSES, isClauseId } from '../spec/clauses.ts';
import type { CheckResult, ClauseResult } from './suite.ts';

/**
 * One wrong rule fails many clauses: a wrong tanh rule fails op.tanh and every accumulation,
 * fan-in or broadcasting check whose random program happens to use tanh. Root causes say which
 * failures explain the others.
 *
 * Every failing check has atoms: what its (shrunk) counterexample exercised, plus `mismatch:<field>`
 * for the fields that were wrong. Each failing check proposes a cause for each clause it fails whose
 * subject its counterexample shows (op.tanh: `op:tanh`); a cause explains every failing check whose
 * atoms contain its blame, so a failing op.tanh check whose counterexample uses only tanh explains
 * every failure whose counterexample uses tanh. Causes are chosen greedily: the one whose blame
 * best separates the still unexplained failures from the passing checks first, by the Ochiai
 * coefficient of spectrum-based fault localisation (`op:pow` is in every failure of a pow bug and
 * in few passing checks; `backward` is in nearly every check, failing or not), then the one that
 * explains the most. A composite failure that no other failure explains is its own root cause.
 */

export interface RootCause {
  clause: string;
  /** The failing check it rests on, e.g. `property gradient.op.pow`. */
  check: string;
  /** What that check's counterexample exercised that is blamed, e.g. `op:pow`. */
  blame: string[];
  /** One line: what disagreed, on which program. */
  counterexample: string;
  /** The command that replays the check. */
  replay: string;
  /** The other failing clauses it explains, in spec order. */
  explains: string[];
  /** Clauses the failures blame exactly as much (in a small run, such as the replay of one property). */
  or?: string[];
}

/** The share of checks above which a blame is too common to single out a cause on its own. */
const UBIQUITOUS = 0.6;
/** Below this many checks, how common a blame is says nothing. */
const FEW = 20;
/** Blames nearly every program has, whatever the run: a backward pass. */
const GENERIC = new Set(['backward']);

/** A field clause is blamed by a mismatch of its field, not by the field being compared. */
const blameAtom = (atom: string) => (atom.startsWith('field:') ? `mismatch:${atom.slice('field:'.length)}` : atom);
/** In a passing check, a mismatch cannot occur: the field being compared is what counts. */
const passAtom = (atom: string) => (atom.startsWith('mismatch:') ? `field:${atom.slice('mismatch:'.length)}` : atom);

function blameFor(clause: string, atoms: ReadonlySet<string>): string[] | null {
  const subject = isClauseId(clause) ? CLAUSE_SUBJECTS[clause] : null;
  for (const alt of subject ?? []) {
    const blame = alt.map(blameAtom);
    // A wrong value is what every failure shows, never a cause of its own.
    if (blame.length > 0 && blame.every((a) => atoms.has(a)) && !blame.every((a) => a === 'mismatch:value')) return blame;
  }
  return null;
}

/** One line describing a failing check: its first disagreement, then its program. */
function oneLine(c: CheckResult): string {
  // An unexpected or missing error is what went wrong first; the observations missing after it are its symptoms.
  const first = [...c.mismatches].sort((a, b) => Number(b.field === 'error') - Number(a.field === 'error'));
  const what = c.kind === 'fixture'
    ? first.slice(0, 1).map((m) => `${m.label} ${m.field}${m.detail ? `: ${m.detail}` : `: expected ${JSON.stringify(m.expected)}, got ${JSON.stringify(m.actual)}`}`)[0] ?? ''
    : (c.message ?? '').split('\n')[1]?.trim() ?? '';
  // The program on one line. Python has no one-line form for a block followed by more statements,
  // so a block's body is shown in braces (`for _ in range(3): { y = y + x }; y.backward()`); the
  // report's FAIL section prints the runnable code.
  const kept = c.repro.split('\n').filter((l) => {
    const t = l.trim();
    return t && !t.startsWith('import ') && !t.startsWith('#') && !t.startsWith('print(');
  });
  const depth = (l: string) => l.length - l.trimStart().length;
  let code = '';
  const open: number[] = [];
  for (const l of kept) {
    while (open.length > 0 && depth(l) <= open[open.length - 1]!) {
      open.pop();
      code += ' }';
    }
    code += code === '' || code.endsWith('{') ? `${code === '' ? '' : ' '}${l.trim()}` : `; ${l.trim()}`;
    if (l.trim().endsWith(':')) {
      open.push(depth(l));
      code += ' {';
    }
  }
  code += ' }'.repeat(open.length);
  const cut = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
  // Code is shown whole or not at all: a program cut in the middle cannot be pasted.
  const statements = kept.length;
  const program = code.length <= 320 ? code : `a program of ${statements} statements, printed in full under FAIL ${c.id} below`;
  return `${cut(what, 220)}${code ? ` | ${program}` : ''}`;
}

interface Candidate {
  clause: string;
  blame: string[];
  /** The blame is a whole counterexample, no clause's subject. */
  whole: boolean;
  /** Passing checks that have the blame too. */
  passing: number;
  /** Failing checks whose atoms contain the blame. */
  checks: CheckResult[];
  /** Other clauses the evidence blames exactly as much. */
  twins?: string[];
}

export function rankRootCauses(checks: readonly CheckResult[], clauses: readonly ClauseResult[]): RootCause[] {
  const failingClauses = new Set(clauses.filter((c) => c.status === 'fail').map((c) => c.id));
  const blamedOn = (c: CheckResult) => (c.failing ?? [...c.clauses]).filter((id) => failingClauses.has(id));
  const failed = checks.filter((c) => c.status === 'fail' && blamedOn(c).length > 0);
  if (failed.length === 0) return [];
  const atomsOf = new Map(failed.map((c) => [c, new Set(c.atoms ?? [])]));
  const passing = checks.filter((c) => c.status === 'pass').map((c) => new Set(c.atoms ?? []));
  const holds = (blame: readonly string[], atoms: ReadonlySet<string>) => blame.every((a) => atoms.has(a));
  const covers = (blame: readonly string[]) => failed.filter((c) => holds(blame, atomsOf.get(c)!));
  const passCount = (blame: readonly string[]) => passing.filter((atoms) => blame.every((a) => atoms.has(passAtom(a)))).length;
  /** Ochiai: f explained failures of `total`, p passing checks that have the blame too. */
  const ochiai = (f: number, total: number, p: number) => (f === 0 ? 0 : f / Math.sqrt(total * (f + p)));
  // Candidates: each failing check, blamed on each clause it fails whose subject its counterexample shows.
  const candidates = new Map<string, Candidate>();
  for (const c of failed) {
    const atoms = atomsOf.get(c)!;
    const fits = blamedOn(c).flatMap((id) => {
      const blame = blameFor(id, atoms);
      return blame ? [{ clause: id, blame }] : [];
    });
    // No clause's subject fits: the whole counterexample is the blame, so it explains only its own kind.
    const whole = fits.length === 0;
    if (whole) fits.push({ clause: blamedOn(c)[0]!, blame: [...atoms] });
    for (const { clause, blame } of fits) {
      const key = `${clause} ${blame.join(' ')}`;
      if (!candidates.has(key)) candidates.set(key, { clause, blame, whole, passing: passCount(blame), checks: covers(blame) });
    }
  }
  // Greedy cover: the cause that explains the most unexplained failures first.
  const spec = (id: string) => (CLAUSES as readonly string[]).indexOf(id);
  const roots: Candidate[] = [];
  const unexplained = new Set(failed);
  while (unexplained.size > 0) {
    const gain = (x: { checks: CheckResult[] }) => x.checks.filter((c) => unexplained.has(c)).length;
    // How well a blame separates the unexplained failures from the passing checks: `backward` is in
    // nearly every failure and nearly every pass, `op:pow` in the failures of a pow bug only.
    const score = (x: { checks: CheckResult[]; passing: number }) => ochiai(gain(x), unexplained.size, x.passing);
    // What a program did (an op, a grad mode, an expected error) is a cause; a wrong field alone is
    // a symptom, blamed only where no cause explains the failure (a wrong grad_fn name).
    // A backward pass, which nearly every check has, explains everything and so nothing: it is taken
    // only for the failures no more specific cause explains. So is a whole counterexample that no
    // clause's subject fits, and an op most checks use (sum), which is in many failures whatever
    // the bug is, unless it is in every failure left: when every program multiplies by a weight, a
    // wrong mul rule is the one cause that explains them all.
    const common = (x: Candidate) => passing.length + failed.length >= FEW
      && x.passing + x.checks.length > UBIQUITOUS * (passing.length + failed.length) && gain(x) < unexplained.size;
    const tier = (x: Candidate) => x.blame.every((b) => b.startsWith('mismatch:')) ? 2
      : x.whole || x.blame.every((b) => GENERIC.has(b)) || common(x) ? 1 : 0;
    const key = (x: Candidate) => [tier(x), -score(x), -gain(x), -x.blame.length];
    const order = (x: Candidate, y: Candidate) => key(x).reduce((d, k, i) => d || k - key(y)[i]!, 0);
    // Among causes the evidence cannot tell apart, the one the failing checks are about comes first
    // (a check's first clause: op.softmax for the softmax property, before op.dims), then spec order.
    const primacy = (x: Candidate) => Math.min(...x.checks.map((c) => {
      const at = (c.clauses as readonly string[]).indexOf(x.clause);
      return at < 0 ? Infinity : at;
    }));
    const ranked = [...candidates.values()].filter((x) => gain(x) > 0)
      .sort((x, y) => order(x, y) || primacy(x) - primacy(y) || spec(x.clause) - spec(y.clause));
    const best = ranked[0];
    if (!best) break;
    // Causes the evidence cannot tell apart (the same failures, as well separated from the passes):
    // say so, rather than let the spec's order pick one (a run of one check shows nothing more).
    const twins = ranked.filter((x) => x !== best && x.clause !== best.clause && order(x, best) === 0
      && x.checks.length === best.checks.length && x.checks.every((c) => best.checks.includes(c))).map((x) => x.clause);
    for (const c of best.checks) unexplained.delete(c);
    const same = roots.find((r) => r.clause === best.clause);
    if (same) same.checks.push(...best.checks.filter((c) => !same.checks.includes(c)));
    else roots.push({ ...best, checks: [...best.checks], twins });
  }
  const rootClauses = new Set(roots.map((r) => r.clause));
  return roots.map((r) => {
    // The counterexample shown: the smallest failing check of the root's own clause.
    const own = r.checks.filter((c) => blamedOn(c).includes(r.clause)).sort((a, b) => atomsOf.get(a)!.size - atomsOf.get(b)!.size || a.position - b.position);
    const shown = own[0] ?? r.checks[0]!;
    const explained = new Set(r.checks.flatMap(blamedOn).filter((id) => !rootClauses.has(id) && !r.twins?.includes(id)));
    return {
      clause: r.clause,
      check: `${shown.kind} ${shown.id}`,
      blame: r.blame,
      counterexample: oneLine(shown),
      replay: shown.replay ?? '',
      explains: CLAUSES.filter((id) => explained.has(id)),
      ...(r.twins?.length ? { or: r.twins } : {}),
    };
  });
}
