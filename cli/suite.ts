import { EngineFault, runGuarded } from '../adapters/guard.ts';
import { referenceAdapter } from '../adapters/reference/index.ts';
import type { Adapter, Feature } from '../adapters/types.ts';
import type { Observations, Program, Step } from '../spec/program.ts';
import type { Deviation } from './deviations.ts';
import { clauseFeature, featuresOf, propertyFeatures } from './needs.ts';
import { comparedFields, exercises, gradientLabels, isEngineClause, missingFor, traceProgram } from './exercise.ts';
import { rankRootCauses, type RootCause } from './root-cause.ts';
import type { Fixture } from '../adapters/program/validate.ts';
import { toPytorch } from '../adapters/program/to-pytorch.ts';
import { compareObservations, type Mismatch } from '../oracles/observations.ts';
import { checkProperty, DEFAULT_RUNS, DEFAULT_SEED, formatFailure, replayLine, shellQuote, unsupported, type AnyProperty } from '../properties/property.ts';
import { CLAUSES, isClauseId } from '../spec/clauses.ts';
import { CLAUSE_SUBJECTS } from '../spec/clause-subjects.ts';
import { expectationsFor } from './fixtures.ts';

/** One check of the suite: a fixture, or a property run over many samples. */
export interface CheckResult {
  kind: 'fixture' | 'property';
  id: string;
  /** Place in the whole suite's order, so merged shards list checks as one run would. */
  position: number;
  /** Features (or dtypes, as `dtype float64`) the check needs that the engine lacks: it did not run. */
  missing?: string[];
  /** The fixture's file, or `properties` for a property. */
  file: string;
  clauses: readonly string[];
  /** fault: the engine crashed, hung or answered garbage for it (message says how). */
  status: 'pass' | 'fail' | 'not-applicable' | 'fault';
  /** Fixtures: the fields that differ. */
  mismatches: Mismatch[];
  /** The clauses the failure is attributed to (a subset of `clauses`). */
  failing?: string[];
  /** The cited clauses this check exercised on the engine (spec/clause-subjects.ts); only these count. */
  exercised?: string[];
  /**
   * What the check exercised (cli/exercise.ts atoms); for a failure, what its counterexample
   * exercised plus `mismatch:<field>` for every field that was wrong. Root causes are ranked on them.
   */
  atoms?: string[];
  /** Properties: the judge's message with seed, path and the shrunk program. */
  message?: string;
  /** Properties: samples run, and samples skipped because no oracle can judge them. */
  runs?: { run: number; skipped: number; notSupported: number; seed: number; path?: string };
  /** Recorded differences between the seed document and the engine's profile that were applied. */
  notes: string[];
  /** Properties: how many samples the engine answered "not supported" (not judged), and why. */
  unsupported?: string;
  /** Fixtures: where the expectations come from (the seed document, or the engine they were recorded on). */
  source?: string;
  /** The failing program as PyTorch code a user can paste. */
  repro: string;
  /** The command that re-runs this check alone (failing checks). */
  replay?: string;
}

export interface ClauseResult {
  id: string;
  /**
   * deviation: fails, and the engine's deviations file says why; not-applicable: the engine lacks
   * what the clause is about; fault: no check failed, but the engine faulted on one of them.
   */
  status: 'pass' | 'fail' | 'deviation' | 'not-applicable' | 'fault' | 'unchecked';
  /** Checks citing the clause. */
  checks: number;
  /** Checks that ran and exercised the clause: the only ones its status rests on. */
  exercised: number;
  reason?: string;
  /** A failing clause whose failures a root cause (another clause) explains. */
  explainedBy?: string;
  failures: { kind: CheckResult['kind']; id: string; file: string; mismatches: Mismatch[]; message?: string; repro: string }[];
}

export interface Report {
  /** The engine and what it can do: enough to judge clauses again when shards are merged. */
  engine: { name: string; version: string; profile: string; features: string[]; dtypes: string[]; fields?: string[] };
  deviations: Deviation[];
  /** With --shard: which share of the checks this report holds, e.g. `2/4`. */
  shard?: string;
  /** Fixture files whose content no longer matches their digest. */
  edited?: string[];
  seed: number;
  runs: number;
  clauses: ClauseResult[];
  checks: CheckResult[];
  /** Deviations whose clause did not fail: the list is out of date. */
  staleDeviations: Deviation[];
  /** The failures that explain the others, most specific first (cli/root-cause.ts). */
  rootCauses: RootCause[];
  summary: {
    clauses: number; passed: number; failed: number; faults: number; deviations: number; notApplicable: number; unchecked: number;
    /** Clauses an engine check exercised (pass, fail, deviation or fault); zero means nothing was checked. */
    checked: number;
    /** Clauses about gradspec itself (program format, oracles): checked by its own tests, outside an engine's verdict. */
    harness: number;
    checks: number; checksFailed: number; checksFaulted: number; checksNotApplicable: number;
  };
}

export { DEFAULT_SEED };

/** A mismatch in these fields is about this clause alone (when the fixture cites it). */
const FIELD_CLAUSE: Record<string, string> = {
  gradFn: 'graph.grad-fn', nextFunctions: 'graph.next-functions', repr: 'tensor.repr', version: 'inplace.version-counter',
  requiresGrad: 'graph.requires-grad', isLeaf: 'graph.is-leaf', dtype: 'tensor.dtype',
  sharesStorage: 'views.alias', stride: 'views.layout', storageOffset: 'views.layout', isContiguous: 'views.layout', isView: 'views.alias',
};

/**
 * Which clauses mismatches break. A wrong name, printed form, version or dtype is its field's
 * clause alone (graph.grad-fn for a grad_fn name), cited or not; a printed form that differs only
 * because the name or the values do is blamed like them. A wrong value, shape or error, or a
 * result that should (not) require grad, have a grad_fn or be a leaf, breaks what the program
 * did: every cited clause (and the field's clause, if it has one).
 */
function attribute(mismatches: readonly Mismatch[], cited: readonly string[], errorAbout: string | null = null, producers: ReadonlyMap<string, string> = new Map()): string[] {
  const out = new Set<string>();
  // A missing, unexpected or different error (and observations past the step that should have
  // failed) breaks the clause about that error, when the check cites one.
  const aboutError = errorAbout ? cited.filter((c) => c !== 'errors.class' && isClauseId(c) && CLAUSE_SUBJECTS[c]?.some((alt) => alt.includes(`error:${errorAbout}`))) : [];
  const wrongName = new Set(mismatches.filter((m) => m.field === 'gradFn').map((m) => m.label));
  const wrongValue = new Set(mismatches.filter((m) => m.field === 'value').map((m) => m.label));
  for (const m of mismatches) {
    const field = m.field === 'repr' && wrongName.has(m.label) ? 'gradFn' : m.field === 'repr' && wrongValue.has(m.label) ? 'value' : m.field;
    if ((field === 'error' || field === 'observation') && aboutError.length > 0) {
      for (const c of aboutError) out.add(c);
      continue;
    }
    const own = FIELD_CLAUSE[field];
    if (own) out.add(own);
    // A field the engine declares but left out is that field's failure alone.
    const missing = m.detail?.startsWith('not reported') ?? false;
    // A wrong grad_fn name (one given, another expected) also breaks the clause of the op that
    // made the tensor, which names it (op.reshape's ReshapeAliasBackward0).
    const producer = field === 'gradFn' && !missing && typeof m.expected === 'string' && typeof m.actual === 'string' ? producers.get(m.label) : undefined;
    if (producer && cited.includes(producer)) out.add(producer);
    const named = missing || (field === 'gradFn' ? m.expected !== null && m.actual !== null && m.actual !== undefined : OWN_ONLY.has(field));
    if (!own || !named) for (const c of cited) out.add(c);
  }
  return [...out];
}

/** For each observation label, the clause of the op step that last bound the observed name (`op.reshape`), if it has one. */
function producerClauses(program: Program): Map<string, string> {
  const made = new Map<string, string>();
  const out = new Map<string, string>();
  const walk = (steps: readonly Step[]) => {
    for (const s of steps) {
      if ('noGrad' in s) walk(s.noGrad);
      else if ('enableGrad' in s) walk(s.enableGrad);
      else if ('repeat' in s) walk(s.steps);
      else if ('op' in s) {
        const clause = `op.${s.op.replace(/[A-Z]/g, (c: string) => `-${c.toLowerCase()}`)}`;
        for (const name of Array.isArray(s.let) ? s.let : [s.let]) {
          if (isClauseId(clause)) made.set(name, clause);
          else made.delete(name);
        }
      } else if ('let' in s && !Array.isArray(s.let)) made.delete(s.let);
      else if ('inplace' in s) made.delete(s.target); // its grad_fn is now the in-place op's
      else if ('observe' in s) {
        const clause = made.get(s.observe);
        if (clause) out.set(s.label ?? s.observe, clause);
      }
    }
  };
  walk(program.steps);
  return out;
}

/** The error category a check is about when its errors differ: the expected one, else the engine's. */
function errorCategory(expected: Observations, actual: Observations): string | null {
  if (expected.error?.category === actual.error?.category && expected.error?.step === actual.error?.step) return null;
  return expected.error?.category ?? actual.error?.category ?? null;
}

/** Fields whose content is their clause's business alone: a wrong one says nothing about the ops or modes. */
const OWN_ONLY = new Set(['nextFunctions', 'repr', 'version', 'dtype', 'sharesStorage', 'stride', 'storageOffset', 'isContiguous', 'isView']);

/**
 * The clauses a failure is blamed on: those of `blamed` the check exercised. A failure is never
 * dropped: when it exercised none of them, it stays on every clause it was blamed on.
 */
function narrow(blamed: readonly string[], exercised: readonly string[]): string[] {
  const kept = blamed.filter((c) => exercised.includes(c));
  return kept.length > 0 ? kept : [...blamed];
}


export interface SuiteOptions {
  seed?: number;
  runs?: number;
  path?: string;
  /** The properties to run (properties/index.ts PROPERTIES for the whole suite); none by default. */
  properties?: AnyProperty[];
  deviations?: Deviation[];
  /** Run only every n-th check, starting at the i-th (1-based): `{ index: i, count: n }`. */
  shard?: { index: number; count: number };
  onProgress?: (done: number, total: number, what: string) => void;
  /** The `--engine` argument as the user gave it, for replay lines (default: the adapter's name). */
  engine?: string;
}

/** Runs every fixture (in one batch) and every property through the adapter; judges per clause. */
export async function runSuite(adapter: Adapter, allFixtures: { file: string; fixture: Fixture; edited?: string | null }[], options: SuiteOptions = {}): Promise<Report> {
  const seed = options.seed ?? DEFAULT_SEED;
  const runs = options.runs ?? DEFAULT_RUNS;
  // An engine that declares its grad_fn names a deviation keeps them graph.grad-fn's business alone.
  const nameBlame = !(options.deviations ?? []).some((d) => d.clause === 'graph.grad-fn');
  // A shard takes every n-th check in a fixed order, so n machines split one suite exactly.
  const shard = options.shard;
  const mine = (position: number) => !shard || position % shard.count === shard.index - 1;
  const fixtures = allFixtures.map((f, position) => ({ ...f, position })).filter((f) => mine(f.position));
  const properties = (options.properties ?? []).map((p, i) => ({ p, position: allFixtures.length + i })).filter((x) => mine(x.position));
  const total = fixtures.length + properties.length;
  const engineArg = options.engine ?? adapter.name;
  const has = capabilitySet(adapter.capabilities.features ?? [], adapter.capabilities.dtypes);
  const lacking = (needs: Iterable<string>) => [...needs].filter((f) => !has.has(f));
  const applicable = fixtures.filter((f) => lacking(featuresOf(f.fixture.program, f.fixture.expected)).length === 0);
  const observed = await runIsolating(adapter, applicable.map((f) => f.fixture.program));
  const checks: CheckResult[] = fixtures.map(({ file, fixture, position }) => {
    const r = fixture.source.recorded;
    const source = r ? `${r.engine} ${r.version}'s observations, recorded ${r.date}` : `the seed document${fixture.source.section ? ` (${fixture.source.section})` : ''}`;
    const base = { kind: 'fixture' as const, id: fixture.id, position, file, clauses: fixture.clauses, notes: [] as string[], source, repro: toPytorch(fixture.program) };
    const missing = lacking(featuresOf(fixture.program, fixture.expected));
    if (missing.length > 0) return { ...base, status: 'not-applicable', missing, mismatches: [] };
    const got = observed[applicable.findIndex((f) => f.fixture === fixture)]!;
    const replay = `npx gradspec check --engine ${shellQuote(engineArg)} --only ${fixture.id}`;
    // What the program exercises when it runs as expected: a pass, a failure or a fault counts for those clauses.
    const { expected, notes } = expectationsFor(fixture, adapter.capabilities.profile);
    const fields = comparedFields(expected, adapter.capabilities.fields);
    const atoms = new Set([...traceProgram(fixture.program, expected.error), ...fields]);
    // A compared field with a clause of its own (gradFn: graph.grad-fn) is checked whether or not the fixture cites it.
    const clauses = [...new Set([...fixture.clauses, ...fields.flatMap((f) => FIELD_CLAUSE[f.slice('field:'.length)] ?? [])])];
    const exercised = clauses.filter((c) => exercises(atoms, c));
    if (got instanceof EngineFault) return { ...base, status: 'fault', message: `engine fault: ${got.message}`, mismatches: [], exercised, replay };
    const refusal = unsupported([got]);
    if (refusal) return { ...base, status: 'not-applicable', missing: [refusal], mismatches: [] };
    const mismatches = compareObservations(expected, got, adapter.capabilities.fields, adapter.capabilities.profile.startsWith('pytorch'), gradientLabels(fixture.program));
    for (const m of mismatches) atoms.add(`mismatch:${m.field}`);
    return {
      ...base, clauses, notes, status: mismatches.length ? 'fail' : 'pass', mismatches, exercised, atoms: [...atoms].sort(),
      ...(mismatches.length ? {
        failing: narrow(attribute(mismatches, fixture.clauses, errorCategory(expected, got), nameBlame ? producerClauses(fixture.program) : undefined), exercised),
        replay,
      } : {}),
    };
  });
  options.onProgress?.(fixtures.length, total, 'fixtures');
  for (const [i, { p, position }] of properties.entries()) {
    const missing = lacking([...propertyFeatures(p), ...(p.needs ?? [])]);
    if (missing.length > 0) {
      checks.push({ kind: 'property', id: p.id, position, file: 'properties', clauses: p.clauses, status: 'not-applicable', missing, mismatches: [], notes: [], repro: '' });
      continue;
    }
    const judgesErrors = (p.needs ?? []).includes('errors');
    const fields = ['value', ...(p.fields ?? [])].filter((f) => (adapter.capabilities.fields as string[]).includes(f)).map((f) => `field:${f}`);
    const atoms = new Set<string>(fields);
    const trace = (programs: readonly Program[], observed: readonly Observations[]) => {
      const out = new Set<string>(fields);
      programs.forEach((program, k) => traceProgram(program, observed[k]?.error ?? null, judgesErrors).forEach((a) => out.add(a)));
      return out;
    };
    const r = await checkProperty(p, adapter, {
      seed, numRuns: runs, ...(options.path ? { path: options.path } : {}),
      onJudged: (programs, observed) => trace(programs, observed).forEach((a) => atoms.add(a)),
    });
    // The sample the engine faulted on counts as tried: a fault there is a fault of its clauses.
    if (r.status === 'fault') trace(r.programs ?? [], []).forEach((a) => atoms.add(a));
    const exercised = p.clauses.filter((c) => exercises(atoms, c));
    // A failure is blamed on the clauses its shrunk counterexample exercises: what the program is
    // meant to do (how far it runs, which error it ends in) is what the reference engine does with it.
    let failed: Set<string> | null = null;
    let failing: string[] = [];
    if (r.status === 'fail') {
      const meant = await runGuarded(referenceAdapter, r.programs ?? []).catch(() => null);
      failed = trace(r.programs ?? [], meant ?? r.observed ?? []);
      // Which fields were wrong: where the engine's observations differ from what was meant.
      const wrong = meant && r.observed ? meant.flatMap((m, k) => compareObservations(m, r.observed![k]!, adapter.capabilities.fields, false)) : [];
      for (const m of wrong) failed.add(`mismatch:${m.field}`);
      if (wrong.length === 0) failed.add('mismatch:value');
      const cited = narrow(p.clauses, p.clauses.filter((c) => exercises(failed!, c)));
      // A field's own clause counts only where the property cites it: a wrong dtype out of the
      // promotion property is that property's clause failing, not a check of tensor.dtype.
      const attributed = wrong.length > 0 ? attribute(wrong, cited, meant?.map((m, k) => errorCategory(m, r.observed![k]!)).find((c) => c !== null) ?? null) : cited;
      failing = attributed.filter((c) => (p.clauses as readonly string[]).includes(c));
      if (failing.length === 0) failing = cited;
    }
    checks.push({
      kind: 'property', id: p.id, position, file: 'properties', clauses: p.clauses, status: r.status, mismatches: [],
      exercised, atoms: [...(failed ?? atoms)].sort(),
      ...(failed ? { failing } : {}),
      ...(failed || (r.status === 'fault' && r.path) ? { replay: replayLine(r, engineArg) } : {}),
      notes: [],
      ...(r.status === 'pass' && r.message ? { unsupported: r.message } : {}),
      ...(r.status === 'not-applicable' ? { missing: [r.message ?? 'not supported'] } : {}),
      runs: { run: r.numRuns, skipped: r.skipped, notSupported: r.notSupported, seed, ...(r.path ? { path: r.path } : {}) },
      // The message's heading names the clauses the failure counts against, as the table shows them.
      ...(r.status === 'fail' ? { message: formatFailure(r, adapter.name, engineArg, failing.length > 0 ? failing : undefined) } : r.status === 'fault' ? { message: r.message ?? 'engine fault' } : {}),
      repro: (r.programs ?? []).map(toPytorch).join('\n'),
    });
    options.onProgress?.(fixtures.length + i + 1, total, p.id);
  }
  const engine = {
    name: adapter.name, version: adapter.version, profile: adapter.capabilities.profile, fields: [...adapter.capabilities.fields],
    features: [...(adapter.capabilities.features ?? [])], dtypes: [...adapter.capabilities.dtypes],
  };
  const report = summarize(engine, checks, options.deviations ?? [], seed, runs);
  const edited = allFixtures.filter((f) => 'edited' in f && f.edited).map((f) => f.file);
  return { ...report, ...(shard ? { shard: `${shard.index}/${shard.count}` } : {}), ...(edited.length ? { edited } : {}) };
}

/**
 * Runs the fixtures in one batch; if the engine faults on the batch, runs them one by one so
 * that the fault is pinned on the programs that cause it and every other program still runs.
 * Alone, a program gets the adapter's short retry timeout: a hang is not waited for twice in full.
 */
async function runIsolating(adapter: Adapter, programs: readonly Program[]): Promise<(Observations | EngineFault)[]> {
  if (programs.length === 0) return [];
  try {
    return await runGuarded(adapter, programs);
  } catch (e) {
    if (!(e instanceof EngineFault)) throw e;
    if (programs.length === 1) return [e];
  }
  const retry = adapter.retryTimeoutMs?.(programs.length);
  const out: (Observations | EngineFault)[] = [];
  for (const program of programs) {
    try {
      out.push((await runGuarded(adapter, [program], retry === undefined ? undefined : { timeoutMs: retry }))[0]!);
    } catch (e) {
      if (!(e instanceof EngineFault)) throw e;
      out.push(e);
    }
  }
  return out;
}

const capabilitySet = (features: readonly string[], dtypes: readonly string[]) =>
  new Set<string>([...features, ...dtypes.map((d) => `dtype ${d}`)]);

/** Judges every clause from the checks that cite it; also what `gradspec merge` does with shards. */
export function summarize(engine: Report['engine'], checks: CheckResult[], deviations: Deviation[], seed: number, runs: number): Report {
  const has = capabilitySet(engine.features, engine.dtypes);
  // The field a clause is about, when the engine does not declare it (gradFn for graph.grad-fn).
  const undeclared = (id: string): string | null => {
    const field = Object.keys(FIELD_CLAUSE).find((f) => FIELD_CLAUSE[f] === id);
    return field && engine.fields && !engine.fields.includes(field) ? field : null;
  };
  const clauses: ClauseResult[] = CLAUSES.map((id) => {
    // A check blamed on a clause counts for it even when it does not cite it: a failure is never dropped.
    const citing = checks.filter((c) => c.clauses.includes(id) || (c.status === 'fail' && (c.failing ?? []).includes(id)));
    const ran = citing.filter((c) => c.status !== 'not-applicable');
    // A fault says nothing about what ran; a check that ran counts only where it exercised the clause.
    const exercising = ran.filter((c) => c.status !== 'fault' && (c.exercised ?? []).includes(id));
    // A failure is never dropped, even one blamed on a clause its program did not reach.
    const failing = ran.filter((c) => c.status === 'fail' && (c.failing ?? c.clauses).includes(id));
    // A fault counts where its check would have exercised the clause (a property: what its samples did before it).
    const faulted = ran.filter((c) => c.status === 'fault' && (c.exercised ?? []).includes(id));
    const deviation = deviations.find((d) => d.clause === id);
    const about = clauseFeature(id);
    const lacksFeature = about !== null && !has.has(about);
    const status: ClauseResult['status'] = citing.length === 0 ? 'unchecked' : lacksFeature ? 'not-applicable'
      : failing.length > 0 ? (deviation ? 'deviation' : 'fail') : faulted.length > 0 ? 'fault'
      : exercising.length > 0 ? 'pass' : 'not-applicable';
    return {
      id,
      status,
      checks: citing.length,
      exercised: new Set([...exercising, ...failing]).size,
      ...(status === 'deviation' ? { reason: deviation!.reason } : {}),
      ...(status === 'fault' ? { reason: `${faulted.length} check${faulted.length === 1 ? '' : 's'} faulted: ${[...new Set(faulted.map((c) => c.message ?? c.id))].join('; ')}`.slice(0, 400) } : {}),
      ...(status === 'not-applicable' ? { reason: notApplicableReason(id, lacksFeature ? about : null, citing, ran, undeclared(id)) } : {}),
      failures: failing.map((c) => ({
        kind: c.kind, id: c.id, file: c.file, mismatches: c.mismatches, ...(c.message ? { message: c.message } : {}), repro: c.repro,
      })),
    };
  });
  // Stale: the clause was checked in this run and did not fail. A clause this run did not check
  // (n/a, or no check of this run cites it, with --only or --shard) says nothing about its entry.
  const staleDeviations = deviations.filter((d) => clauses.find((c) => c.id === d.clause)?.status === 'pass');
  const rootCauses = rankRootCauses(checks, clauses);
  for (const cause of rootCauses) {
    for (const id of cause.explains) {
      const c = clauses.find((k) => k.id === id);
      if (c && c.explainedBy === undefined) c.explainedBy = cause.clause;
    }
  }
  const count = (s: ClauseResult['status']) => clauses.filter((c) => c.status === s).length;
  return {
    engine,
    deviations,
    seed,
    runs,
    clauses,
    checks,
    staleDeviations,
    rootCauses,
    summary: {
      clauses: clauses.length, passed: count('pass'), failed: count('fail'), faults: count('fault'), deviations: count('deviation'),
      notApplicable: count('not-applicable'), unchecked: count('unchecked'),
      checked: clauses.filter((c) => ['pass', 'fail', 'deviation', 'fault'].includes(c.status)).length,
      harness: clauses.filter((c) => !isEngineClause(c.id)).length,
      checks: checks.length, checksFailed: checks.filter((c) => c.status === 'fail').length,
      checksFaulted: checks.filter((c) => c.status === 'fault').length,
      checksNotApplicable: checks.filter((c) => c.status === 'not-applicable').length,
    },
  };
}

/**
 * Why a clause is not applicable: the feature it is about, what its checks needed that the engine
 * lacks, or what none of the checks that ran exercised (`needs op matmul`, `needs field gradFn`).
 */
function notApplicableReason(id: string, feature: string | null, citing: readonly CheckResult[], ran: readonly CheckResult[], field: string | null): string {
  if (feature) return `needs ${feature}`;
  if (ran.length === 0) {
    // What the checks needed: features and dtypes the engine lacks, or steps it refused as not
    // supported; and, for a field's clause, the field, which running the checks would not give.
    const missing = [...new Set([...(field ? [`field ${field}`] : []), ...citing.flatMap((c) => c.missing ?? [])])];
    const refused = missing.filter((m) => m.startsWith('not supported'));
    const lacking = missing.filter((m) => !m.startsWith('not supported'));
    return [lacking.length ? `needs ${lacking.join(', ')}` : '', ...refused].filter(Boolean).join('; ');
  }
  const atoms = new Set(ran.flatMap((c) => c.atoms ?? []));
  const skipped = citing.filter((c) => c.status === 'not-applicable');
  const why = [...new Set(skipped.flatMap((c) => c.missing ?? []))];
  const others = skipped.length > 0 ? `; ${skipped.length} ${skipped.length === 1 ? 'was' : 'were'} n/a: ${why.join(', ')}` : '';
  return `needs ${missingFor(id, atoms) || 'a check that exercises it'} (${ran.length} citing check${ran.length === 1 ? '' : 's'} ran without exercising it${others})`;
}

/** Combines shard reports of one engine, seed and run count into the report of the whole suite. */
export function mergeReports(reports: readonly Report[]): Report {
  const [first] = reports;
  if (!first) throw new Error('nothing to merge');
  for (const r of reports) {
    if (r.engine.name !== first.engine.name || r.engine.version !== first.engine.version || r.seed !== first.seed || r.runs !== first.runs) {
      throw new Error(`cannot merge reports of different runs: ${r.engine.name} ${r.engine.version} seed ${r.seed} runs ${r.runs} vs ${first.engine.name} ${first.engine.version} seed ${first.seed} runs ${first.runs}`);
    }
  }
  const seen = new Set<string>();
  const checks = reports.flatMap((r) => r.checks).filter((c) => {
    const key = `${c.kind}:${c.id}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  }).sort((a, b) => a.position - b.position);
  return summarize(first.engine, checks, first.deviations, first.seed, first.runs);
}
