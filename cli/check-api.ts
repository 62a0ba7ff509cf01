import { withValidCapabilities } from '../adapters/capabilities.ts';
import { EngineNotFound, NotInstalled, openAdapter, resolveEngine } from '../adapters/index.ts';
import { AdapterError, type ProcessOptions } from '../adapters/process.ts';
import { closest, unknownName } from '../adapters/suggest.ts';
import type { Adapter } from '../adapters/types.ts';
import type { AnyProperty } from '../properties/property.ts';
import { CLAUSES, isClauseId } from '../spec/clauses.ts';
import { DeviationsError, deviationsFile, loadDeviations, type Deviation } from './deviations.ts';
import { loadFixtures } from './fixtures.ts';
import { clausePattern, exitCode as reportExitCode, unmetRequirements } from './report.ts';
import { DEFAULT_SEED, runSuite, type Report } from './suite.ts';
import { integer, unknownOnly, UsageError } from './usage.ts';

/**
 * `gradspec check` as a function: `import { check } from 'gradspec/check'`. The CLI's check action
 * (cli/main.ts) runs through the same functions (planCheck, engineDeviations, runCheck, verdictOf),
 * so the report and the exit code are the ones `gradspec check --json` writes and exits with.
 */

export type { Report } from './suite.ts';
export type { Deviation } from './deviations.ts';
export type { Adapter } from '../adapters/types.ts';
export { AdapterError, DeviationsError, EngineNotFound, NotInstalled, UsageError };

export interface CheckOptions {
  /** Seed of the generated cases (default: GRADSPEC_SEED, else gradspec's fixed seed). */
  seed?: number | string;
  /** Samples per property (default: GRADSPEC_RUNS, else 200). */
  runs?: number | string;
  /** Run only these checks: fixture or property ids, globs of ids, or clause ids (every check citing it), comma-separated. */
  only?: string;
  /** Clause ids or globs (`op.*`) that must be checked, not n/a: the exit code is 1 otherwise. A list, or one comma-separated string. */
  require?: string | readonly string[];
  /**
   * Known deviations: a deviations file (which must exist), or the list itself. Default: the
   * file adapters/<engine>.deviations.json of gradspec, when it exists (for an adapter object, its name).
   */
  deviations?: string | readonly Deviation[];
  /** Milliseconds an out-of-process engine may take for one batch before it is killed and restarted (default 120000). */
  timeout?: number | string;
  /** Run the i-th of n equal shares of the suite: `'2/4'` or `{ index: 2, count: 4 }`. */
  shard?: string | { index: number; count: number };
  /** Replay one failure's path (what GRADSPEC_PATH does on the CLI; default: GRADSPEC_PATH). */
  path?: string;
  /** The `--engine` argument printed in replay lines (default: the engine string, or the adapter's name). */
  replayAs?: string;
  onProgress?: (done: number, total: number, what: string) => void;
}

/** Why the exit code is not 0: one entry per failing clause, fault, stale deviation, unmet requirement, or nothing checked. */
export interface CheckReason {
  kind: 'failed' | 'fault' | 'stale-deviation' | 'unmet-requirement' | 'nothing-checked';
  /** The clause it is about (all kinds but nothing-checked). */
  clause?: string;
  message: string;
}

export interface CheckOutcome {
  /** The report `gradspec check --json` writes. */
  report: Report;
  /** The exit code `gradspec check` would give: 0 conforms, 1 non-conformance (or an unmet requirement), 2 engine faults only or nothing checked. */
  exitCode: 0 | 1 | 2;
  reasons: CheckReason[];
}

/** What a check runs, validated: every option mistake is a UsageError before anything runs. */
export interface CheckPlan {
  seed: number;
  runs: number;
  timeout: number;
  shard?: { index: number; count: number };
  required: string[];
  fixtures: ReturnType<typeof loadFixtures>;
  properties: AnyProperty[];
  path?: string;
}

/** How a plan names options in its errors: the CLI says `--runs (or GRADSPEC_RUNS)`, the API `runs`. */
export type OptionNames = (option: 'seed' | 'runs' | 'timeout' | 'shard' | 'require') => string;

const MAX_TIMEOUT = 2 ** 31 - 1;

/** A whole number given as a number or as typed; undefined when it is not one. */
const whole = (v: number | string): number | undefined => (typeof v === 'number' ? (Number.isSafeInteger(v) ? v : undefined) : integer(v));

/** `i/n` or `{ index, count }` as a shard, or a UsageError. */
function shardOf(shard: NonNullable<CheckOptions['shard']>, name: string): { index: number; count: number } {
  let index = 0;
  let count = 0;
  if (typeof shard === 'string') {
    const m = /^(\d+)\/(\d+)$/.exec(shard);
    if (m) [index, count] = [Number(m[1]), Number(m[2])];
  } else if (Number.isSafeInteger(shard.index) && Number.isSafeInteger(shard.count)) {
    ({ index, count } = shard);
  }
  if (count < 1 || index < 1 || index > count) {
    throw new UsageError(`${name} takes i/n with 1 <= i <= n, got '${typeof shard === 'string' ? shard : `${shard.index}/${shard.count}`}'`);
  }
  return { index, count };
}

/** Required clause patterns; one that matches no clause is a UsageError with a did-you-mean. */
export function requiredClauses(require: CheckOptions['require'], name = 'require'): string[] {
  const list = typeof require === 'string' ? require.split(',') : [...(require ?? [])];
  const patterns = list.map((p) => p.trim()).filter(Boolean);
  for (const p of patterns) {
    if (!CLAUSES.some((id) => clausePattern(p).test(id))) throw new UsageError(`${name}: ${unknownName('clause', p, CLAUSES)}`);
  }
  return patterns;
}

/** Validates the options and loads the checks to run (fixtures, and the properties unless one fixture is replayed). */
export async function planCheck(options: CheckOptions, names: OptionNames = (o) => o): Promise<CheckPlan> {
  const seedRaw = options.seed ?? process.env.GRADSPEC_SEED ?? DEFAULT_SEED;
  const seed = whole(seedRaw);
  if (seed === undefined) throw new UsageError(`${names('seed')} must be an integer, got '${seedRaw}'`);
  const runsRaw = options.runs ?? process.env.GRADSPEC_RUNS ?? 200;
  const runs = whole(runsRaw);
  if (runs === undefined || runs < 1) throw new UsageError(`${names('runs')} must be a positive integer, got '${runsRaw}'`);
  const shard = options.shard === undefined ? undefined : shardOf(options.shard, names('shard'));
  const timeoutRaw = options.timeout ?? 120_000;
  const timeout = whole(timeoutRaw);
  // Node's timers take at most 2^31 - 1 ms; a longer one fires at once and would kill every batch.
  if (timeout === undefined || timeout < 1 || timeout > MAX_TIMEOUT) {
    throw new UsageError(`${names('timeout')} must be a whole number of milliseconds from 1 to ${MAX_TIMEOUT}, got '${timeoutRaw}'`);
  }
  const required = requiredClauses(options.require, names('require'));
  const allFixtures = loadFixtures();
  const only = options.only;
  // Loaded here, not at start-up: the oracles bring mathjs, which takes a second to import.
  // Replaying one fixture needs no property, so it does not pay for mathjs.
  const patterns = only === undefined ? null : only.split(',').map((p) => p.trim()).filter((p) => p !== '');
  const onlyFixtures = patterns !== null && patterns.every((p) => allFixtures.some((f) => f.fixture.id === p));
  const allProperties = onlyFixtures ? [] : (await import('../properties/index.ts')).PROPERTIES;
  const picked = (c: { id: string; clauses: readonly string[] }) => patterns === null || patterns.some((p) => selects(p, c));
  const fixtures = allFixtures.filter((f) => picked(f.fixture));
  const properties = allProperties.filter(picked);
  const unmatched = (patterns ?? []).find((p) => !allFixtures.some((f) => selects(p, f.fixture)) && !allProperties.some((q) => selects(p, q)));
  if (unmatched !== undefined) throw new UsageError(unknownOnly(unmatched, allFixtures.map((f) => f.fixture), allProperties));
  const path = options.path ?? process.env.GRADSPEC_PATH;
  return { seed, runs, timeout, ...(shard ? { shard } : {}), required, fixtures, properties, ...(path ? { path } : {}) };
}

/**
 * What `--only` selects: a check by its id, by a glob of ids (`gradient.op.*`), or every check
 * citing a clause (`op.softmax`: its property, edge fixtures and recorded programs).
 */
function selects(pattern: string, check: { id: string; clauses: readonly string[] }): boolean {
  if (check.id === pattern || check.clauses.includes(pattern)) return true;
  if (!pattern.includes('*')) return false;
  const glob = new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return glob.test(check.id);
}

/** A deviations list given in code: each entry a clause id of the spec with a reason. */
function checkedDeviations(list: readonly Deviation[]): Deviation[] {
  return list.map((d, i) => {
    if (typeof d?.clause !== 'string' || !isClauseId(d.clause)) {
      const hint = typeof d?.clause === 'string' ? closest(d.clause, CLAUSES) : null;
      throw new DeviationsError(`deviations[${i}].clause: '${String(d?.clause)}' is not a clause id of the spec${hint ? ` (did you mean '${hint}'?)` : ''}`);
    }
    if (typeof d.reason !== 'string' || !/\S/.test(d.reason)) throw new DeviationsError(`deviations[${i}] (${d.clause}) must say why (its reason is empty)`);
    return { clause: d.clause, reason: d.reason };
  });
}

/** The engine's known deviations: the given file (which must exist) or list, else gradspec's file for the engine, if any. */
export function engineDeviations(engine: Adapter | string, deviations: CheckOptions['deviations']): Deviation[] {
  if (typeof deviations === 'string') return loadDeviations(deviations, { required: true });
  if (deviations) return checkedDeviations(deviations);
  return loadDeviations(deviationsFile(typeof engine === 'string' ? engine.trim() : engine.name));
}

/** Opens an engine as --engine names it; a failure to start is an AdapterError naming the engine. */
async function openEngine(engine: string, options: ProcessOptions): Promise<Adapter> {
  return openAdapter(engine, options).catch((e: Error) => {
    if (e instanceof NotInstalled || e instanceof EngineNotFound) throw e;
    throw new AdapterError(`cannot open engine '${engine}': ${e.message}`);
  });
}

/**
 * Runs the plan on one engine. An engine given as a string is opened here and closed here, on
 * error too (an out-of-process engine's process never outlives the run); an adapter object is the
 * caller's, and is left open.
 */
export async function runCheck(engine: Adapter | string, plan: CheckPlan, deviations: Deviation[], extra: { replayAs?: string; onProgress?: CheckOptions['onProgress'] } = {}): Promise<Report> {
  const owned = typeof engine === 'string';
  const adapter = owned ? await openEngine(engine, { batchTimeoutMs: plan.timeout }) : withValidCapabilities(engine);
  try {
    return await runSuite(adapter, plan.fixtures, {
      seed: plan.seed, runs: plan.runs, properties: plan.properties, deviations,
      ...(plan.shard ? { shard: plan.shard } : {}),
      engine: extra.replayAs ?? (owned ? engine.trim() : adapter.name),
      ...(plan.path ? { path: plan.path } : {}),
      ...(extra.onProgress ? { onProgress: extra.onProgress } : {}),
    });
  } finally {
    if (owned) await adapter.close?.();
  }
}

/** The exit code `gradspec check` gives for a report (with --require), and why it is not 0. */
export function verdictOf(report: Report, required: readonly string[]): { exitCode: 0 | 1 | 2; reasons: CheckReason[] } {
  const reasons: CheckReason[] = [];
  for (const c of report.clauses) {
    if (c.status === 'fail') reasons.push({ kind: 'failed', clause: c.id, message: `clause ${c.id} failed${c.explainedBy ? ` (explained by root cause ${c.explainedBy})` : ''}` });
    if (c.status === 'fault') reasons.push({ kind: 'fault', clause: c.id, message: `clause ${c.id}: ${c.reason ?? 'engine fault'}` });
  }
  for (const d of report.staleDeviations) {
    reasons.push({ kind: 'stale-deviation', clause: d.clause, message: `deviation ${d.clause} is stale: listed ("${d.reason}") but the clause does not fail; remove the entry` });
  }
  const unmet = unmetRequirements(report, required);
  for (const u of unmet) reasons.push({ kind: 'unmet-requirement', clause: u.clause, message: `required clause ${u.clause} was not checked: ${u.why}` });
  if (report.summary.checked === 0) reasons.push({ kind: 'nothing-checked', message: 'nothing was checked (no check exercised any clause), so there is no verdict' });
  const code = Math.max(reportExitCode(report), unmet.length > 0 ? 1 : 0) as 0 | 1 | 2;
  return { exitCode: code, reasons };
}

/**
 * Runs the conformance suite on one engine, as `gradspec check --engine <engine>` does: an
 * Adapter object (in process), or a string as --engine takes it (a name such as `reference` or
 * `mutant:sin-rule`, a module path, or a command speaking spec/adapters.md's protocol).
 *
 * Resolves to the report and the CLI's exit code with its reasons. Rejects, before anything runs,
 * on what the CLI reports with exit 2 as a usage error (UsageError, EngineNotFound, DeviationsError),
 * and with NotInstalled or AdapterError when the engine cannot be opened.
 */
export async function check(engine: Adapter | string, options: CheckOptions = {}): Promise<CheckOutcome> {
  if (typeof engine === 'string') resolveEngine(engine);
  else if (!engine || typeof engine.run !== 'function') throw new UsageError('check(): engine must be an adapter ({ name, version, capabilities, run }) or an --engine string');
  const deviations = engineDeviations(engine, options.deviations);
  const plan = await planCheck(options);
  const report = await runCheck(engine, plan, deviations, {
    ...(options.replayAs ? { replayAs: options.replayAs } : {}), ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  return { report, ...verdictOf(report, plan.required) };
}
