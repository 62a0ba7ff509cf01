import { conformance } from '../vitest-conformance.ts';

// The reference engine on one fixture: the clauses it exercises pass, the others are skipped.
conformance('reference', { runs: 5, only: 'spec.op.pow' });

// A known deviation passes, with its reason as a note.
conformance('mutant:old-mean-name', {
  runs: 5, only: 'spec.op.mean',
  deviations: [{ clause: 'graph.grad-fn', reason: 'prints the older MeanBackward1 name' }],
});
