import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { ProgramError, validateProgram } from '../adapters/program/validate.ts';
import { engineNames, NotInstalled, openAdapter } from '../adapters/index.ts';
import { AdapterError, type ProcessOptions } from '../adapters/process.ts';
import { runProgram } from '../adapters/reference/run-program.ts';
import { loadFixtures } from './fixtures.ts';
import { registerFixtureCommands } from './fixture-commands.ts';
import { deviationsFile, loadDeviations } from './deviations.ts';
import { exitCode, formatReport, reportJson, reportJunit } from './report.ts';
import { formatMatrix, matrixHtml, matrixMarkdown, type EngineColumn } from './matrix.ts';
import { DEFAULT_SEED, mergeReports, runSuite, type Report } from './suite.ts';
import { writeAtomic } from './write-atomic.ts';

/** Exit codes: 0 conforms, 1 non-conformance found, 2 usage or adapter failure. */
class UsageError extends Error {}

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
  .option('--junit <file>', 'write JUnit XML (one test case per clause and per property) for CI dashboards')
  .option('--deviations <file>', 'known deviations of the engine (default: adapters/<engine>.deviations.json when it exists)')
  .option('--seed <n>', 'seed for generated cases (default: GRADSPEC_SEED or a fixed seed)', process.env.GRADSPEC_SEED ?? String(DEFAULT_SEED))
  .option('--only <id>', 'run only the fixture or property with this id (with GRADSPEC_PATH: replay one failure)')
  .option('--runs <n>', 'samples per property (default: GRADSPEC_RUNS or 200)', process.env.GRADSPEC_RUNS ?? '200')
  .option('--timeout <ms>', 'how long an out-of-process engine may take for one batch before it is killed and restarted', '120000')
  .option('--shard <i/n>', 'run the i-th of n equal shares of the suite (merge the --json reports with gradspec merge)')
  .option('--markdown <file>', 'with several engines: write the matrix as Markdown')
  .option('--html <file>', 'with several engines: write the matrix as one self-contained HTML page')
  .action(async (opts: CheckOptions) => {
    const seed = Number(opts.seed);
    if (!Number.isInteger(seed)) throw new UsageError(`--seed must be an integer, got '${opts.seed}'`);
    const runs = Number(opts.runs);
    if (!Number.isInteger(runs) || runs < 1) throw new UsageError(`--runs must be a positive integer, got '${opts.runs}'`);
    let shard: { index: number; count: number } | undefined;
    if (opts.shard) {
      const m = /^(\d+)\/(\d+)$/.exec(opts.shard);
      const [index, count] = m ? [Number(m[1]), Number(m[2])] : [0, 0];
      if (!m || count < 1 || index < 1 || index > count) throw new UsageError(`--shard takes i/n with 1 <= i <= n, got '${opts.shard}'`);
      shard = { index, count };
    }
    let fixtures = loadFixtures();
    // Loaded here, not at start-up: the oracles bring mathjs, which takes a second to import.
    let properties = (await import('../properties/index.ts')).PROPERTIES;
    if (opts.only) {
      fixtures = fixtures.filter((f) => f.fixture.id === opts.only);
      properties = properties.filter((p) => p.id === opts.only);
      if (fixtures.length + properties.length === 0) throw new UsageError(`--only: no fixture or property has the id '${opts.only}'`);
    }
    // Progress goes to stderr, and only when a person watches stdout, so reports stay clean.
    const tty = process.stdout.isTTY && process.stderr.isTTY;
    const timeout = Number(opts.timeout);
    if (!Number.isInteger(timeout) || timeout < 1) throw new UsageError(`--timeout must be a positive number of milliseconds, got '${opts.timeout}'`);
    const checkEngine = async (engine: string, deviationsPath?: string): Promise<Report> => {
      const adapter = await openEngine(engine, { batchTimeoutMs: timeout });
      try {
        return await runSuite(adapter, fixtures, {
          seed, runs, properties, deviations: loadDeviations(deviationsPath ?? deviationsFile(engine)), ...(shard ? { shard } : {}),
          ...(process.env.GRADSPEC_PATH ? { path: process.env.GRADSPEC_PATH } : {}),
          onProgress: tty ? (done, total, what) => process.stderr.write(`\r  ${engine}: checking ${done}/${total} ${what}\u001b[K`) : undefined,
        });
      } finally {
        if (tty) process.stderr.write('\r\u001b[K');
        await adapter.close?.();
      }
    };

    const engines = opts.engine.split(',').map((e) => e.trim()).filter(Boolean);
    if (engines.length === 1) {
      const report = await checkEngine(engines[0]!, opts.deviations);
      process.stdout.write(`${formatReport(report)}\n`);
      if (opts.json) writeAtomic(opts.json, reportJson(report));
      if (opts.junit) writeAtomic(opts.junit, reportJunit(report));
      process.exitCode = exitCode(report);
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
    if (opts.json) writeAtomic(opts.json, `${JSON.stringify(columns, null, 2)}\n`);
    if (opts.markdown) writeAtomic(opts.markdown, matrixMarkdown(columns));
    if (opts.html) writeAtomic(opts.html, matrixHtml(columns));
    const ran = columns.filter((c) => c.report);
    process.exitCode = ran.length === 0 ? 2 : Math.max(...ran.map((c) => exitCode(c.report!)));
  });

interface CheckOptions {
  engine: string; json?: string; junit?: string; markdown?: string; html?: string; deviations?: string;
  seed: string; runs: string; only?: string; shard?: string; timeout: string;
}

program
  .command('merge')
  .description('combine the --json reports of a sharded run (gradspec check --shard i/n) into one report')
  .argument('<reports...>', 'JSON reports of the shards')
  .option('--json <file>', 'write the merged report (default: print the terminal report only)')
  .action((files: string[], opts: { json?: string }) => {
    const reports = files.map((f) => {
      try {
        return JSON.parse(readFileSync(f, 'utf8')) as Report;
      } catch (e) {
        throw new UsageError(`${f}: ${(e as Error).message}`);
      }
    });
    let merged: Report;
    try {
      merged = mergeReports(reports);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    process.stdout.write(`${formatReport(merged)}\n`);
    if (opts.json) writeAtomic(opts.json, reportJson(merged));
    process.exitCode = exitCode(merged);
  });

program
  .command('run')
  .description('execute one program (spec/program.md) on the reference engine and print its observations')
  .argument('<program.json>', 'a program file')
  .action((file: string) => {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new UsageError(`${file}: ${(e as Error).message}`);
    }
    process.stdout.write(`${JSON.stringify(runProgram(validateProgram(json, file)), null, 2)}\n`);
  });

registerFixtureCommands(program, { openEngine, UsageError });

async function openEngine(engine: string, options: ProcessOptions = {}) {
  return openAdapter(engine, options).catch((e: Error) => {
    if (e instanceof NotInstalled) throw e;
    throw new AdapterError(`cannot open engine '${engine}': ${e.message}`);
  });
}

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    process.exitCode = e.exitCode === 0 ? 0 : 2;
  } else if (e instanceof UsageError || e instanceof ProgramError || e instanceof AdapterError || e instanceof NotInstalled) {
    process.stderr.write(`gradspec: ${e.message}\n`);
    process.exitCode = 2;
  } else {
    // Anything else is a fault (of an engine or of gradspec): never reported as non-conformance.
    process.stderr.write(`gradspec: internal error: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
    process.exitCode = 2;
  }
}
