import { Command, CommanderError } from 'commander';
import { ProgramError } from '../adapters/program/validate.ts';
import { EngineNotFound, engineNames, NotInstalled, openAdapter, resolveEngine } from '../adapters/index.ts';
import { AdapterError, type ProcessOptions } from '../adapters/process.ts';
import { registerFixtureCommands } from './fixture-commands.ts';
import { registerAdapterCommands } from './adapter-commands.ts';
import { registerRunCommand } from './run-command.ts';
import { DeviationsError, type Deviation } from './deviations.ts';
import { engineDeviations, planCheck, requiredClauses, runCheck, verdictOf, type OptionNames } from './check-api.ts';
import { formatReport, reportJson } from './report.ts';
import { junit } from './junit.ts';
import { checkShards } from './shards.ts';
import { checkOutput, readJson, splitEngines, UsageError, writeOutput } from './usage.ts';
import { formatMatrix, matrixHtml, matrixMarkdown, type EngineColumn } from './matrix.ts';
import { DEFAULT_SEED, mergeReports, type Report } from './suite.ts';

const program = new Command()
  .name('gradspec')
  .description('Checks autograd engines against a written spec of PyTorch autograd semantics.')
  .version('0.1.0')
  .exitOverride();

program
  .command('check')
  .description('run the conformance suite against an engine and report per spec clause')
  .option('--engine <engine>', `engine to check: ${engineNames().join(', ')}, a module path, or a command speaking the protocol of spec/adapters.md; several, comma-separated, give the conformance matrix`, 'reference')
  .option('--json <file>', 'write the per-clause report as JSON')
  .option('--junit <file>', 'write JUnit XML for CI dashboards: per engine, a test suite of clauses and one of properties')
  .option('--deviations <file>', 'known deviations of the engine, a file that must exist (default: adapters/<engine>.deviations.json when it exists)')
  .option('--seed <n>', 'seed for generated cases (default: GRADSPEC_SEED or a fixed seed)', process.env.GRADSPEC_SEED ?? String(DEFAULT_SEED))
  .option('--only <ids>', 'run only these checks, comma-separated: fixture or property ids, globs (gradient.op.*), or clause ids (every check citing the clause); with GRADSPEC_PATH, one property: replay one failure')
  .option('--runs <n>', 'samples per property (default: GRADSPEC_RUNS or 200)', process.env.GRADSPEC_RUNS ?? '200')
  .option('--timeout <ms>', 'how long an out-of-process engine may take for one batch before it is killed and restarted', '120000')
  .option('--shard <i/n>', 'run the i-th of n equal shares of the suite (merge the --json reports with gradspec merge)')
  .option('--markdown <file>', 'write the matrix (one column per engine) as Markdown')
  .option('--html <file>', 'write the matrix (one column per engine) as one self-contained HTML page')
  .option('--require <clauses>', 'clause ids or globs (comma-separated, e.g. "op.*,backward.accumulate") that must be checked on the engine, not n/a: exit 1 otherwise')
  .action(async (opts: CheckOptions) => {
    // One code path with the API (cli/check-api.ts): the same plan, run and verdict; the CLI adds outputs and the matrix.
    const names: OptionNames = (option) => ({
      seed: '--seed (or GRADSPEC_SEED)', runs: '--runs (or GRADSPEC_RUNS)', timeout: '--timeout', shard: '--shard', require: '--require',
    })[option];
    for (const option of ['json', 'junit', 'markdown', 'html'] as const) checkOutput(`--${option}`, opts[option]);
    const engines = splitEngines(opts.engine);
    if (engines.length === 0) throw new UsageError('--engine is empty');
    if (engines.length > 1 && opts.deviations) throw new UsageError('--deviations takes one engine\'s file; with several engines each uses adapters/<engine>.deviations.json');
    if (engines.length > 1 && opts.shard) throw new UsageError('--shard works with one engine (gradspec merge combines one engine\'s shards)');
    // Every engine is resolved and every deviations file read before anything runs: a typo in the
    // last of five engines should not cost the first four runs.
    const deviations = new Map<string, Deviation[]>();
    for (const engine of engines) {
      resolveEngine(engine);
      deviations.set(engine, engineDeviations(engine, opts.deviations));
    }
    const plan = await planCheck({
      seed: opts.seed, runs: opts.runs, timeout: opts.timeout,
      ...(opts.shard !== undefined ? { shard: opts.shard } : {}), ...(opts.only !== undefined ? { only: opts.only } : {}),
      ...(opts.require !== undefined ? { require: opts.require } : {}),
    }, names);
    // Progress goes to stderr, and only when a person watches stdout, so reports stay clean.
    const tty = process.stdout.isTTY && process.stderr.isTTY;
    const checkEngine = async (engine: string): Promise<Report> => {
      try {
        return await runCheck(engine, plan, deviations.get(engine)!, {
          ...(tty ? { onProgress: (done: number, total: number, what: string) => process.stderr.write(`\r  ${engine}: checking ${done}/${total} ${what}\u001b[K`) } : {}),
        });
      } finally {
        if (tty) process.stderr.write('\r\u001b[K');
      }
    };
    /** The exit code of one engine's report, with --require: a required clause left unchecked is a non-conformance. */
    const verdict = (engine: string, report: Report): number => {
      const { exitCode, reasons } = verdictOf(report, plan.required);
      for (const r of reasons) {
        if (r.kind === 'unmet-requirement' || r.kind === 'nothing-checked') process.stderr.write(`gradspec: ${engine}: ${r.message}\n`);
      }
      return exitCode;
    };
    if (engines.length === 1) {
      const report = await checkEngine(engines[0]!);
      process.stdout.write(`${formatReport(report)}\n`);
      if (opts.json) writeOutput('--json', opts.json, reportJson(report));
      // One engine is a one-column matrix.
      const column = [{ engine: engines[0]!, report }];
      if (opts.junit) writeOutput('--junit', opts.junit, junit(column));
      if (opts.markdown) writeOutput('--markdown', opts.markdown, matrixMarkdown(column));
      if (opts.html) writeOutput('--html', opts.html, matrixHtml(column));
      process.exitCode = verdict(engines[0]!, report);
      return;
    }
    // Several engines: the conformance matrix. An engine that cannot run is reported, not failed.
    const columns: EngineColumn[] = [];
    for (const engine of engines) {
      try {
        columns.push({ engine, report: await checkEngine(engine) });
      } catch (e) {
        if (!(e instanceof NotInstalled || e instanceof AdapterError)) throw e;
        columns.push({ engine, unavailable: e instanceof NotInstalled ? `not installed: ${e.message}` : e.message });
      }
    }
    process.stdout.write(`${formatMatrix(columns)}\n`);
    if (opts.json) writeOutput('--json', opts.json, `${JSON.stringify(columns, null, 2)}\n`);
    if (opts.markdown) writeOutput('--markdown', opts.markdown, matrixMarkdown(columns));
    if (opts.html) writeOutput('--html', opts.html, matrixHtml(columns));
    if (opts.junit) writeOutput('--junit', opts.junit, junit(columns));
    const ran = columns.filter((c) => c.report);
    process.exitCode = ran.length === 0 ? 2 : Math.max(...ran.map((c) => verdict(c.engine, c.report!)));
  });

interface CheckOptions {
  engine: string; json?: string; junit?: string; markdown?: string; html?: string; deviations?: string;
  seed: string; runs: string; only?: string; shard?: string; timeout: string; require?: string;
}

program
  .command('merge')
  .description('combine the --json reports of a sharded run (gradspec check --shard i/n) into one report')
  .argument('<reports...>', 'JSON reports of the shards')
  .option('--json <file>', 'write the merged report (default: print the terminal report only)')
  .option('--junit <file>', 'write the merged report as JUnit XML for CI dashboards')
  .option('--require <clauses>', 'clause ids or globs that the whole run must have checked (as for check)')
  .action((files: string[], opts: { json?: string; junit?: string; require?: string }) => {
    // A shard checks only part of the suite, so required clauses are judged on the merged report.
    const required = requiredClauses(opts.require, '--require');
    checkOutput('--json', opts.json);
    checkOutput('--junit', opts.junit);
    const reports = files.map((file) => ({ file, report: readJson(file) }));
    let merged: Report;
    try {
      merged = mergeReports(checkShards(reports));
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    process.stdout.write(`${formatReport(merged)}\n`);
    if (opts.json) writeOutput('--json', opts.json, reportJson(merged));
    if (opts.junit) writeOutput('--junit', opts.junit, junit([{ engine: merged.engine.name, report: merged }]));
    const verdict = verdictOf(merged, required);
    for (const r of verdict.reasons) {
      if (r.kind === 'unmet-requirement' || r.kind === 'nothing-checked') process.stderr.write(`gradspec: ${merged.engine.name}: ${r.message}\n`);
    }
    process.exitCode = verdict.exitCode;
  });

registerRunCommand(program, openEngine);
registerFixtureCommands(program, { openEngine, UsageError });
registerAdapterCommands(program);

async function openEngine(engine: string, options: ProcessOptions = {}) {
  return openAdapter(engine, options).catch((e: Error) => {
    if (e instanceof NotInstalled || e instanceof EngineNotFound) throw e;
    throw new AdapterError(`cannot open engine '${engine}': ${e.message}`);
  });
}

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    process.exitCode = e.exitCode === 0 ? 0 : 2;
  } else if (e instanceof UsageError || e instanceof ProgramError || e instanceof AdapterError || e instanceof NotInstalled
    || e instanceof DeviationsError || e instanceof EngineNotFound) {
    process.stderr.write(`gradspec: ${e.message}\n`);
    process.exitCode = 2;
  } else {
    // Anything else is a fault (of an engine or of gradspec): never reported as non-conformance.
    process.stderr.write(`gradspec: internal error: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
    process.exitCode = 2;
  }
}
