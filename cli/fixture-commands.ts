import { renameSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { Adapter } from '../adapters/types.ts';
import { DEFAULT_SEED } from '../properties/property.ts';
import { stamped } from './digest.ts';
import { drift, formatDrift, regenerated } from './drift.ts';
import { unsupported } from '../properties/property.ts';
import { loadFixtures } from './fixtures.ts';
import { featuresOf } from './needs.ts';
import { addRecorded, nextRecordedNumber, record, writeFixtureFolder } from './record.ts';
import { writeAtomic } from './write-atomic.ts';

const today = () => new Date().toISOString().slice(0, 10);

/**
 * Runs every fixture the engine can run (its features and dtypes; not refused as unsupported) and
 * pairs each with its drift from the expectations; the others are counted as not applicable.
 */
async function driftAll(adapter: Adapter) {
  const has = new Set<string>([...(adapter.capabilities.features ?? []), ...adapter.capabilities.dtypes.map((d) => `dtype ${d}`)]);
  // Loaded once (about half a second each time): the counts and the hand-edit report use this load too.
  const loaded = loadFixtures();
  const all = loaded.filter((f) => [...featuresOf(f.fixture.program, f.fixture.expected)].every((n) => has.has(n)));
  const observed = await adapter.run(all.map((f) => f.fixture.program));
  const ran = all.map((f, i) => ({ ...f, observed: observed[i]! })).filter((f) => !unsupported([f.observed]));
  return {
    loaded,
    notApplicable: loaded.length - ran.length,
    results: ran.map((f) => ({ ...f, drift: drift(f.fixture, f.observed, adapter.capabilities.profile, adapter.capabilities.fields) })),
  };
}

/** `gradspec fixtures record | check | regenerate`. */
export function registerFixtureCommands(
  program: Command,
  { openEngine, UsageError }: { openEngine: (engine: string) => Promise<Adapter>; UsageError: new (m: string) => Error },
): void {
  const withEngine = async (engine: string, work: (adapter: Adapter) => Promise<void>) => {
    const adapter = await openEngine(engine);
    try {
      await work(adapter);
    } finally {
      await adapter.close?.();
    }
  };
  const fixtures = program.command('fixtures').description('record, check and regenerate golden fixtures');

  fixtures
    .command('record')
    .description('draw programs from the property generators, run them on an engine, and store them with its observations under fixtures/recorded/')
    .option('--engine <engine>', 'the engine whose behaviour is recorded', 'pytorch')
    .option('--count <n>', 'how many programs', '336')
    .option('--seed <n>', 'seed for drawing the programs', String(DEFAULT_SEED))
    .option('--property <ids...>', 'record only these properties, adding their programs to the folder (existing files are kept; an id already there is an error)')
    .action(async (opts: { engine: string; count: string; seed: string; property?: string[] }) => {
      const count = Number(opts.count);
      const seed = Number(opts.seed);
      if (!Number.isInteger(count) || count < 1) throw new UsageError(`--count must be a positive integer, got '${opts.count}'`);
      if (!Number.isInteger(seed)) throw new UsageError(`--seed must be an integer, got '${opts.seed}'`);
      const { PROPERTIES } = await import('../properties/index.ts');
      const chosen = opts.property ? opts.property.map((id) => {
        const p = PROPERTIES.find((q) => q.id === id);
        if (!p) throw new UsageError(`--property: no property '${id}' (property ids start 'gradient.', 'semantics.' or 'compositions.'; spec/autograd.md's Checked-by lines name them)`);
        return p;
      }) : PROPERTIES;
      await withEngine(opts.engine, async (adapter) => {
        const recorded = await record(adapter, {
          count, seed, date: today(), properties: chosen, ...(opts.property ? { firstNumber: (p) => nextRecordedNumber(p) } : {}),
        });
        if (!opts.property) {
          const folder = writeFixtureFolder('recorded', recorded);
          process.stdout.write(`recorded ${recorded.length} programs on ${adapter.name} ${adapter.version} (seed ${seed}) into ${folder}\n`);
          return;
        }
        const files = addRecorded(recorded);
        process.stdout.write(`recorded ${files.length} programs on ${adapter.name} ${adapter.version} (seed ${seed}):\n${files.map((f) => `  ${f}\n`).join('')}`);
      });
    });

  fixtures
    .command('check')
    .description('re-run every fixture on an engine and show drift as a diff; exit 1 on drift')
    .option('--engine <engine>', 'the engine to run the fixtures on', 'reference')
    .action(async (opts: { engine: string }) => withEngine(opts.engine, async (adapter) => {
      const { loaded, results, notApplicable } = await driftAll(adapter);
      const drifted = results.filter((r) => r.drift.length > 0);
      for (const r of drifted) process.stdout.write(`${formatDrift(r.file, r.drift)}\n`);
      // A fixture edited by hand is reported even when the engine agrees with the edit.
      const edited = loaded.filter((f) => f.edited);
      for (const f of edited) process.stdout.write(`EDITED ${f.file} ${f.edited}; if the edit is intended: npx gradspec fixtures stamp ${f.file}\n`);
      const na = notApplicable ? ` (${notApplicable} not applicable)` : '';
      process.stdout.write(`${results.length - drifted.length} of ${results.length} fixtures hold on ${adapter.name} ${adapter.version}${na}${drifted.length ? `; ${drifted.length} drifted` : ''}\n`);
      if (edited.length) process.stdout.write(`${edited.length} fixtures edited by hand\n`);
      process.exitCode = drifted.length || edited.length ? 1 : 0;
    }));

  fixtures
    .command('stamp')
    .description('accept hand edits: write the digest of each named fixture file as it now is')
    .argument('<files...>', 'fixture files')
    .action((files: string[]) => {
      for (const file of files) {
        const found = loadFixtures().find((f) => f.file === file || f.path === file || f.path.endsWith(`/${file}`));
        if (!found) throw new UsageError(`${file} is not a fixture file`);
        writeAtomic(found.path, `${JSON.stringify(stamped(found.fixture), null, 2)}\n`);
        process.stdout.write(`stamped ${found.file}\n`);
      }
    });

  fixtures
    .command('regenerate')
    .description("rewrite computed expectations from an engine after showing the diff; the seed document's fixtures are verified, never rewritten")
    .option('--engine <engine>', 'the engine whose observations become the expectations', 'pytorch')
    .option('--dry-run', 'show the diff and write nothing')
    .action(async (opts: { engine: string; dryRun?: boolean }) => withEngine(opts.engine, async (adapter) => {
      const writes: { path: string; text: string }[] = [];
      let documentDrift = 0;
      for (const { file, path, fixture, observed, drift: d } of (await driftAll(adapter)).results) {
        if (d.length === 0) continue;
        process.stdout.write(`${formatDrift(file, d)}\n`);
        if (file.startsWith('fixtures/document/')) {
          documentDrift++;
          process.stdout.write('  (a document fixture: verified, never rewritten)\n');
          continue;
        }
        const recorded = fixture.source.recorded;
        const next = {
          ...fixture,
          ...(recorded ? { source: { ...fixture.source, recorded: { ...recorded, engine: adapter.name, version: adapter.version, date: today() } } } : {}),
          expected: regenerated(fixture, observed),
        };
        writes.push({ path, text: `${JSON.stringify(stamped(next), null, 2)}\n` });
      }
      if (!opts.dryRun) {
        // Every new file is complete before any old one is replaced, and each replacement is a
        // rename. Temporary files of an interrupted earlier run end in .regen-<pid>; they are not
        // fixtures (the loader reads *.json only).
        const staged = writes.map((w) => ({ ...w, tmp: `${w.path}.regen-${process.pid}` }));
        for (const w of staged) writeFileSync(w.tmp, w.text);
        for (const w of staged) renameSync(w.tmp, w.path);
      }
      process.stdout.write(`${writes.length} fixtures ${opts.dryRun ? 'would be ' : ''}rewritten from ${adapter.name} ${adapter.version}; ${documentDrift} document fixtures drifted (not rewritten)\n`);
      process.exitCode = documentDrift ? 1 : 0;
    }));
}
