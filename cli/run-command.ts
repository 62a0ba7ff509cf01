import type { Command } from 'commander';
import { validateFixture, validateProgram, type Fixture } from '../adapters/program/validate.ts';
import { toPytorch } from '../adapters/program/to-pytorch.ts';
import type { Adapter } from '../adapters/types.ts';
import type { Program } from '../spec/program.ts';
import { drift, formatDrift } from './drift.ts';
import { unsupported } from '../properties/property.ts';
import { readJson } from './usage.ts';

/**
 * `gradspec run FILE`: one program, or a fixture's program, on one engine. A fixture's run is also
 * compared with its expectations, as `check` compares it, so a failing fixture can be replayed and
 * edited by hand: exit 0 when it matches, 1 when it differs. The observations are the JSON on
 * stdout; the comparison goes to stderr.
 */
export function registerRunCommand(program: Command, openEngine: (engine: string) => Promise<Adapter>): void {
  program
    .command('run')
    .description("execute one program (spec/program.md), or a fixture's program, on an engine and print its observations; a fixture's are compared with its expectations")
    .argument('<file.json>', 'a program file, or a fixture file (its program is run and judged)')
    .option('--engine <engine>', 'the engine to run it on (as for check)', 'reference')
    .option('--pytorch', 'print the program as PyTorch code instead of running it')
    .action(async (file: string, opts: { engine: string; pytorch?: boolean }) => {
      const json = readJson(file);
      // A fixture wraps its program with expectations; users debugging a failing fixture run it as is.
      const isFixture = typeof json === 'object' && json !== null && 'program' in json && 'expected' in json;
      const fixture: Fixture | null = isFixture ? validateFixture(json, file) : null;
      const toRun: Program = fixture ? fixture.program : validateProgram(json, file);
      if (opts.pytorch) {
        process.stdout.write(`${toPytorch(toRun)}\n`);
        return;
      }
      const adapter = await openEngine(opts.engine);
      try {
        const [observed] = await adapter.run([toRun]);
        process.stdout.write(`${JSON.stringify(observed, null, 2)}\n`);
        if (!fixture || !observed) return;
        const refusal = unsupported([observed]);
        if (refusal) {
          process.stderr.write(`not applicable on ${adapter.name}: ${refusal}\n`);
          return;
        }
        const mismatches = drift(fixture, observed, adapter.capabilities.profile, adapter.capabilities.fields);
        if (mismatches.length === 0) {
          process.stderr.write(`${fixture.id}: ${adapter.name} matches the fixture's expectations (fields compared: ${adapter.capabilities.fields.join(', ')})\n`);
        } else {
          process.stderr.write(`${fixture.id}: ${adapter.name} differs from the fixture's expectations (- expected, + observed)\n${formatDrift(file, mismatches)}\n`);
          process.exitCode = 1;
        }
      } finally {
        await adapter.close?.();
      }
    });
}
