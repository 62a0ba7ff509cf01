import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import programSchema from '../spec/program.schema.json' with { type: 'json' };
import { validateCapabilities, withValidCapabilities } from './capabilities.ts';
import { MUTANTS, mutantAdapter } from './mutants.ts';
import { NotInstalled, openAdapter } from './index.ts';
import { processAdapter } from './process.ts';
import { referenceAdapter } from './reference/index.ts';
import { AdapterError, FEATURES, FIELDS } from './types.ts';

const ENGINE = fileURLToPath(new URL('./testing/faulty-engine.ts', import.meta.url));
const refusal = (raw: unknown): string => {
  try {
    validateCapabilities(raw, 'a test');
  } catch (e) {
    expect(e).toBeInstanceOf(AdapterError);
    return (e as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(raw)}`);
};
// Tests in other files run faulty engines at the same time: count only this file's.
const MARK = `mark:capabilities-${process.pid}`;
const faultyProcesses = () => spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.includes('faulty-engine.ts') && l.includes(MARK)).length;

describe('capabilities', () => {
  test('program.observations unknown features, dtypes, languages, fields and keys are refused with a did-you-mean and the valid values', () => {
    const features = refusal({ dtypes: ['float32'], profile: 'mine', features: ['acumulate', 'retain_graph', 'createGraph'] });
    expect(features).toContain(`unknown feature 'acumulate' (did you mean 'accumulate'?); known: ${FEATURES.join(', ')}`);
    expect(features).toContain("unknown feature 'retain_graph' (did you mean 'retain-graph'?)");
    expect(features).toContain("unknown feature 'createGraph' (did you mean 'create-graph'?)");
    expect(refusal({ dtypes: ['f32'], profile: 'mine' })).toContain("unknown dtype 'f32'; known: float32, float64");
    expect(refusal({ dtypes: ['float32'], profile: 'mine', language: 'python' })).toContain("unknown language 'python'; known: pytorch, json");
    expect(refusal({ dtypes: ['float32'], profile: 'mine', fields: ['grad_fn'] })).toContain(`unknown field 'grad_fn' (did you mean 'gradFn'?); known: ${FIELDS.join(', ')}`);
    expect(refusal({ dtypes: ['float32'], profile: 'mine', filds: ['value'] })).toContain("unknown capability key 'filds' (did you mean 'fields'?)");
    expect(refusal({ dtypes: [], profile: 'mine' })).toContain("'dtypes' must name at least one dtype");
    expect(refusal({ dtypes: ['float32', 'float32'], profile: 'mine' })).toContain("'dtypes' names \"float32\" twice");
    expect(refusal(null)).toContain('capabilities must be an object');
  });

  test('program.observations a missing profile, or a PyTorch profile gradspec has not recorded, is refused', () => {
    expect(refusal({ dtypes: ['float32'] })).toContain("missing required key 'profile'");
    expect(refusal({ profile: 'mine' })).toContain("missing required key 'dtypes'");
    expect(refusal({ dtypes: ['float32'], profile: 'pytorch-2.1' })).toContain("unknown profile 'pytorch-2.1' (did you mean 'pytorch-1.13'?)");
    expect(refusal({ dtypes: ['float32'], profile: 'pytroch-1.13' })).toContain("(did you mean 'pytorch-1.13'?)");
    expect(refusal({ dtypes: ['float32'], profile: 'my engine' })).toContain('must be a name of letters, digits');
  });

  test('program.observations missing optional keys get defaults that claim nothing', () => {
    expect(validateCapabilities({ dtypes: ['float64'], profile: 'my-engine-1.0' }, 'a test')).toEqual({
      dtypes: ['float64'], features: [], fields: ['value'], profile: 'my-engine-1.0', language: 'json',
    });
    expect(validateCapabilities({ dtypes: ['float32'], profile: 'pytorch-1.13' }, 'a test').language).toBe('pytorch');
    // The lists come from the TypeScript constants: everything they hold is accepted.
    const all = { dtypes: programSchema.definitions.DType.enum, features: [...FEATURES], fields: [...FIELDS], profile: 'pytorch-1.13', language: 'json' };
    expect(validateCapabilities(all, 'a test')).toEqual(all);
  });

  test('program.observations every built-in adapter declares valid capabilities', async () => {
    expect(withValidCapabilities(referenceAdapter).capabilities).toEqual(referenceAdapter.capabilities);
    for (const name of Object.keys(MUTANTS)) withValidCapabilities(mutantAdapter(name)!);
    for (const engine of ['tfjs', 'js-pytorch', 'jax-js']) {
      const adapter = await openAdapter(engine).catch((e: Error) => e);
      if (adapter instanceof NotInstalled) continue;
      expect(adapter, engine).not.toBeInstanceOf(Error);
      await (adapter as { close?: () => Promise<void> }).close?.();
    }
  });

  test('program.observations a hello with invalid capabilities is refused, and its process is ended', async () => {
    const open = processAdapter([process.execPath, '--import', 'tsx', ENGINE, MARK, '--capabilities={"dtypes":["float32"],"features":["acumulate"]}']);
    await expect(open).rejects.toThrow(AdapterError);
    await expect(open).rejects.toThrow(/invalid capabilities in its hello \(spec\/adapters.md, "Capabilities"\):\n  missing required key 'profile'[^]*unknown feature 'acumulate' \(did you mean 'accumulate'\?\)/);
    await new Promise((r) => setTimeout(r, 200));
    expect(faultyProcesses()).toBe(0);
  });
});
