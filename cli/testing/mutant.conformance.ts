import { referenceAdapter } from '../../adapters/reference/index.ts';
import supportsNothing from '../../adapters/testing/supports-nothing.ts';
import type { Adapter } from '../../adapters/types.ts';
import { conformance } from '../vitest-conformance.ts';

// A wrong pow rule: op.pow fails, and its message starts with the root cause.
conformance('mutant:pow-exponent-2', { runs: 5, only: 'spec.op.pow' });

// An engine without in-place ops, in process: inplace.version-counter is n/a, and fails because it is required.
const noInplace: Adapter = {
  ...referenceAdapter,
  name: 'no-inplace',
  capabilities: { ...referenceAdapter.capabilities, features: referenceAdapter.capabilities.features.filter((f) => f !== 'inplace') },
};
conformance(noInplace, { runs: 5, only: 'spec.op.pow', require: ['inplace.version-counter'] });

// An engine that supports nothing: every clause is skipped with its reason, and the run fails.
conformance(supportsNothing, { runs: 5, only: 'document.one-step' });
