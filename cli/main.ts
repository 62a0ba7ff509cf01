import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { ProgramError, validateProgram } from '../adapters/program/validate.ts';
import { engineNames, openAdapter } from '../adapters/index.ts';
import { AdapterError } from '../adapters/process.ts';
import { runProgram } from '../adapters/reference/run-program.ts';
import { PROPERTIES } from '../properties/index.ts';
import { drift, formatDrift, regenerated } from './drift.ts';
import { loadFixtures } from './fixtures.ts';
import { record, writeFixtureFolder } from './record.ts';
import { deviationsFile, loadDeviations } from './deviations.ts';
import { conforms, formatReport, reportJson, reportJunit } from './report.ts';
import { DEFAULT_SEED, runSuite } from './suite.ts';
import { writeAtomic } from './write-atomic.ts';

/** Exit codes: 0 conforms, 1 non-conformance found, 2 usage or adapter failure. */

const program = new Command()
  .name('gradspec')
  .description('Checks autograd engines against a written spec of PyTorch autograd semantics.')
  .version('0.1.0')
  .exitOverride();

program
  .command('check')
  .description('run the conformance suite against an engine and report per spec clause')
  .option('--engine <engine>', `engine to check: ${engineNames().join(', ')}, a module path, or a command speaking the protocol of spec/adapters.md`, 'reference')
  .option('--json <file>', 'write the per-clause report as JSON')
  .option('--junit <file>', 'write JUnit XML (one test case per clause and per property) for CI dashboards')
  .option('--deviations <file>', 'known deviations of the engine (default: adapters/<engine>.deviations.json when it exists)')
  .option('--seed <n>', 'seed for generated cases (default: GRADSPEC_SEED or a fixed seed)', process.env.GRADSPEC_SEED ?? String(DEFAULT_SEED))
  .option('--only <id>', 'run only the fixture or property with this id (with GRADSPEC_PATH: replay one failure)')
  .option('--runs <n>', 'samples per property (default: GRADSPEC_RUNS or 200)', process.env.GRADSPEC_RUNS ?? '200')
  .action(async (opts: { engine: string; json?: string; junit?: string; deviations?: string; seed: string; runs: string; only?: string }) => {
    const adapter = await openEngine(opts.engine);
    const seed = Number(opts.seed);
    if (!Number.isInteger(seed)) throw new UsageError(`--seed must be an integer, got '${opts.seed}'`);
    const runs = Number(opts.runs);
    if (!Number.isInteger(runs) || runs < 1) throw new UsageError(`--runs must be a positive integer, got '${opts.runs}'`);
    const tty = process.stderr.isTTY;
    let fixtures = loadFixtures();
    let properties = PROPERTIES;
    if (opts.only) {
      fixtures = fixtures.filter((f) => f.fixture.id === opts.only);
      properties = properties.filter((p) => p.id === opts.only);
      if (fixtures.length + properties.length === 0) throw new UsageError(`--only: no fixture or property has the id '${opts.only}'`);
    }
    const deviations = loadDeviations(opts.deviations ?? deviationsFile(opts.engine));
    const report = await runSuite(adapter, fixtures, {
      seed, runs, properties, deviations, ...(process.env.GRADSPEC_PATH ? { path: process.env.GRADSPEC_PATH } : {}),
      // A progress line only on a terminal, so logs and pipes stay clean.
      onProgress: tty ? (done, total, what) => process.stderr.write(`\r  checking ${done}/${total} ${what}\u001b[K`) : undefined,
    });
    if (tty) process.stderr.write('\r\u001b[K');
    await adapter.close?.();
    process.stdout.write(`${formatReport(report)}\n`);
    if (opts.json) writeAtomic(opts.json, reportJson(report));
    if (opts.junit) writeAtomic(opts.junit, reportJunit(report));
    process.exitCode = conforms(report) ? 0 : 1;
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

const fixturesCommand = program.command('fixtures').description('record, check and regenerate golden fixtures');

fixturesCommand
  .command('record')
  .description('draw programs from the property generators, run them on an engine, and store them with its observations under fixtures/recorded/')
  .option('--engine <engine>', 'the engine whose behaviour is recorded', 'pytorch')
  .option('--count <n>', 'how many programs', '320')
  .option('--seed <n>', 'seed for drawing the programs', String(DEFAULT_SEED))
  .action(async (opts: { engine: string; count: string; seed: string }) => {
    const count = Number(opts.count);
    const seed = Number(opts.seed);
    if (!Number.isInteger(count) || count < 1) throw new UsageError(`--count must be a positive integer, got '${opts.count}'`);
    if (!Number.isInteger(seed)) throw new UsageError(`--seed must be an integer, got '${opts.seed}'`);
    const adapter = await openEngine(opts.engine);
    try {
      const recorded = await record(adapter, { count, seed, date: new Date().toISOString().slice(0, 10), properties: PROPERTIES });
      const folder = writeFixtureFolder('recorded', recorded);
      process.stdout.write(`recorded ${recorded.length} programs on ${adapter.name} ${adapter.version} (seed ${seed}) into ${folder}\n`);
    } finally {
      await adapter.close?.();
    }
  });

fixturesCommand
  .command('check')
  .description('re-run every fixture on an engine and show drift as a diff; exit 1 on drift')
  .option('--engine <engine>', 'the engine to run the fixtures on', 'reference')
  .action(async (opts: { engine: string }) => {
    const adapter = await openEngine(opts.engine);
    try {
      const all = loadFixtures();
      const observed = await adapter.run(all.map((f) => f.fixture.program));
      let drifted = 0;
      all.forEach(({ file, fixture }, i) => {
        const d = drift(fixture, observed[i]!, adapter.capabilities.profile, adapter.capabilities.fields);
        if (d.length === 0) return;
        drifted++;
        process.stdout.write(`${formatDrift(file, d)}\n`);
      });
      process.stdout.write(`${all.length - drifted} of ${all.length} fixtures hold on ${adapter.name} ${adapter.version}${drifted ? `; ${drifted} drifted` : ''}\n`);
      process.exitCode = drifted ? 1 : 0;
    } finally {
      await adapter.close?.();
    }
  });

fixturesCommand
  .command('regenerate')
  .description("rewrite computed expectations from an engine after showing the diff; the seed document's fixtures are verified, never rewritten")
  .option('--engine <engine>', 'the engine whose observations become the expectations', 'pytorch')
  .option('--dry-run', 'show the diff and write nothing')
  .action(async (opts: { engine: string; dryRun?: boolean }) => {
    const adapter = await openEngine(opts.engine);
    try {
      const all = loadFixtures();
      const observed = await adapter.run(all.map((f) => f.fixture.program));
      const writes: { path: string; text: string }[] = [];
      let documentDrift = 0;
      all.forEach(({ file, path, fixture }, i) => {
        const d = drift(fixture, observed[i]!, adapter.capabilities.profile, adapter.capabilities.fields);
        if (d.length === 0) return;
        process.stdout.write(`${formatDrift(file, d)}\n`);
        if (file.startsWith('fixtures/document/')) {
          documentDrift++;
          process.stdout.write('  (a document fixture: verified, never rewritten)\n');
          return;
        }
        const next = { ...fixture, expected: regenerated(fixture, observed[i]!) };
        if (fixture.source.recorded) next.source = { ...fixture.source, recorded: { ...fixture.source.recorded, engine: adapter.name, version: adapter.version, date: new Date().toISOString().slice(0, 10) } };
        writes.push({ path, text: `${JSON.stringify(next, null, 2)}\n` });
      });
      if (!opts.dryRun) {
        // Every new file is complete before any old one is replaced (each replacement is a rename).
        const staged = writes.map((w) => ({ ...w, tmp: `${w.path}.regen-${process.pid}` }));
        for (const w of staged) writeFileSync(w.tmp, w.text);
        for (const w of staged) renameSync(w.tmp, w.path);
      }
      process.stdout.write(`${writes.length} fixtures ${opts.dryRun ? 'would be' : ''} rewritten from ${adapter.name} ${adapter.version}; ${documentDrift} document fixtures drifted (not rewritten)\n`);
      process.exitCode = documentDrift ? 1 : 0;
    } finally {
      await adapter.close?.();
    }
  });

async function openEngine(engine: string) {
  return openAdapter(engine).catch((e: Error) => {
    throw new AdapterError(`cannot open engine '${engine}': ${e.message}`);
  });
}

class UsageError extends Error {}

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    process.exitCode = e.exitCode === 0 ? 0 : 2;
  } else if (e instanceof UsageError || e instanceof ProgramError || e instanceof AdapterError) {
    process.stderr.write(`gradspec: ${e.message}\n`);
    process.exitCode = 2;
  } else {
    throw e;
  }
}
