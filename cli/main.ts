import { Command, CommanderError } from 'commander';
import { ProgramError, validateFixture, validateProgram } from '../adapters/program/validate.ts';
import { EngineNotFound, engineNames, NotInstalled, openAdapter, resolveEngine } from '../adapters/index.ts';
import { AdapterError, type ProcessOptions } from '../adapters/process.ts';
import { runProgram } from '../adapters/reference/run-program.ts';
import { loadFixtures } from './fixtures.ts';
import { registerFixtureCommands } from './fixture-commands.ts';
import { DeviationsError, deviationsFile, loadDeviations, type Deviation } from './deviations.ts';
import { clausePattern, exitCode, formatReport, reportJson, unmetRequirements } from './report.ts';
import { CLAUSES } from '../spec/clauses.ts';
import { unknownName } from '../adapters/suggest.ts';
import { junit } from './junit.ts';
import { checkShards } from './shards.ts';
import { checkOutput, integer, readJson, splitEngines, unknownOnly, UsageError, writeOutput } from './usage.ts';
import { formatMatrix, matrixHtml, matrixMarkdown, type EngineColumn } from './matrix.ts';
import { DEFAULT_SEED, mergeReports, runSuite, type Report } from './suite.ts';

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
  .option('--only <id>', 'run only the fixture or property with this id (with GRADSPEC_PATH: replay one failure)')
  .option('--runs <n>', 'samples per property (default: GRADSPEC_RUNS or 200)', process.env.GRADSPEC_RUNS ?? '200')
  .option('--timeout <ms>', 'how long an out-of-process engine may take for one batch before it is killed and restarted', '120000')
  .option('--shard <i/n>', 'run the i-th of n equal shares of the suite (merge the --json reports with gradspec merge)')
  .option('--markdown <file>', 'write the matrix (one column per engine) as Markdown')
  .option('--html <file>', 'write the matrix (one column per engine) as one self-contained HTML page')
  .option('--require <clauses>', 'clause ids or globs (comma-separated, e.g. "op.*,backward.accumulate") that must be checked on the engine, not n/a: exit 1 otherwise')
  .action(async (opts: CheckOptions) => {
    const seed = integer(opts.seed);
    if (seed === undefined) throw new UsageError(`--seed (or GRADSPEC_SEED) must be an integer, got '${opts.seed}'`);
    const runs = integer(opts.runs);
    if (runs === undefined || runs < 1) throw new UsageError(`--runs (or GRADSPEC_RUNS) must be a positive integer, got '${opts.runs}'`);
    let shard: { index: number; count: number } | undefined;
    if (opts.shard) {
      const m = /^(\d+)\/(\d+)$/.exec(opts.shard);
      const [index, count] = m ? [Number(m[1]), Number(m[2])] : [0, 0];
      if (!m || count < 1 || index < 1 || index > count) throw new UsageError(`--shard takes i/n with 1 <= i <= n, got '${opts.shard}'`);
      shard = { index, count };
    }
    // Progress goes to stderr, and only when a person watches stdout, so reports stay clean.
    const tty = process.stdout.isTTY && process.stderr.isTTY;
    const timeout = integer(opts.timeout);
    // Node's timers take at most 2^31 - 1 ms; a longer one fires at once and would kill every batch.
    if (timeout === undefined || timeout < 1 || timeout > 2 ** 31 - 1) throw new UsageError(`--timeout must be a whole number of milliseconds from 1 to ${2 ** 31 - 1}, got '${opts.timeout}'`);
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
      deviations.set(engine, opts.deviations ? loadDeviations(opts.deviations, { required: true }) : loadDeviations(deviationsFile(engine)));
    }
    const allFixtures = loadFixtures();
    // Loaded here, not at start-up: the oracles bring mathjs, which takes a second to import.
    // Replaying one fixture needs no property, so it does not pay for mathjs.
    const onlyFixture = opts.only !== undefined && allFixtures.some((f) => f.fixture.id === opts.only);
    const allProperties = onlyFixture ? [] : (await import('../properties/index.ts')).PROPERTIES;
    const fixtures = opts.only ? allFixtures.filter((f) => f.fixture.id === opts.only) : allFixtures;
    const properties = opts.only ? allProperties.filter((p) => p.id === opts.only) : allProperties;
    if (opts.only && fixtures.length + properties.length === 0) throw new UsageError(unknownOnly(opts.only, allFixtures.map((f) => f.fixture), allProperties));
    const checkEngine = async (engine: string): Promise<Report> => {
      const adapter = await openEngine(engine, { batchTimeoutMs: timeout });
      try {
        return await runSuite(adapter, fixtures, {
          seed, runs, properties, deviations: deviations.get(engine)!, ...(shard ? { shard } : {}), engine,
          ...(process.env.GRADSPEC_PATH ? { path: process.env.GRADSPEC_PATH } : {}),
          onProgress: tty ? (done, total, what) => process.stderr.write(`\r  ${engine}: checking ${done}/${total} ${what}\u001b[K`) : undefined,
        });
      } finally {
        if (tty) process.stderr.write('\r\u001b[K');
        await adapter.close?.();
      }
    };

    const required = requiredClauses(opts.require);
    /** The exit code of one engine's report, with --require: a required clause left unchecked is a non-conformance. */
    const verdict = (engine: string, report: Report): number => {
      const unmet = unmetRequirements(report, required);
      for (const u of unmet) process.stderr.write(`gradspec: ${engine}: required clause ${u.clause} was not checked: ${u.why}\n`);
      if (report.summary.checked === 0) process.stderr.write(`gradspec: ${engine}: nothing was checked (no check exercised any clause), so there is no verdict\n`);
      return Math.max(exitCode(report), unmet.length > 0 ? 1 : 0);
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

/** --require's patterns; one that matches no clause is a usage error with a did-you-mean. */
function requiredClauses(option: string | undefined): string[] {
  const patterns = (option ?? '').split(',').map((p) => p.trim()).filter(Boolean);
  for (const p of patterns) {
    if (!CLAUSES.some((id) => clausePattern(p).test(id))) throw new UsageError(`--require: ${unknownName('clause', p, CLAUSES)}`);
  }
  return patterns;
}

interface CheckOptions {
  engine: string; json?: string; junit?: string; markdown?: string; html?: string; deviations?: string;
  seed: string; runs: string; only?: string; shard?: string; timeout: string; require?: string;
}

program
  .command('merge')
  .description('combine the --json reports of a sharded run (gradspec check --shard i/n) into one report')
  .argument('<reports...>', 'JSON reports of the shards')
  .option('--json <file>', 'write the merged report (default: print the terminal report only)')
  .action((files: string[], opts: { json?: string }) => {
    checkOutput('--json', opts.json);
    const reports = files.map((file) => ({ file, report: readJson(file) }));
    let merged: Report;
    try {
      merged = mergeReports(checkShards(reports));
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    process.stdout.write(`${formatReport(merged)}\n`);
    if (opts.json) writeOutput('--json', opts.json, reportJson(merged));
    process.exitCode = exitCode(merged);
  });

program
  .command('run')
  .description('execute one program (spec/program.md), or a fixture\'s program, on the reference engine and print its observations')
  .argument('<program.json>', 'a program file, or a fixture file (its program is run)')
  .action((file: string) => {
    const json = readJson(file);
    // A fixture wraps its program with expectations; users debugging a failing fixture run it as is.
    const isFixture = typeof json === 'object' && json !== null && 'program' in json && 'expected' in json;
    const toRun = isFixture ? validateFixture(json, file).program : validateProgram(json, file);
    process.stdout.write(`${JSON.stringify(runProgram(toRun), null, 2)}\n`);
  });

registerFixtureCommands(program, { openEngine, UsageError });

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
