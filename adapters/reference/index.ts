import { FEATURES, FIELDS, type Adapter } from '../types.ts';
import { runProgram } from './run-program.ts';

/** The embedded reference engine, as an in-process adapter. */
export const referenceAdapter: Adapter = {
  name: 'reference',
  version: '0.1.0',
  capabilities: {
    dtypes: ['float32', 'float64', 'int64', 'bool'],
    fields: [...FIELDS],
    profile: 'pytorch-1.13',
    features: [...FEATURES],
    language: 'pytorch',
  },
  run: async (programs) => programs.map(runProgram),
};
