/**
 * `gradspec/program`: the program format (spec/program.md) and what engines answer with. Types for
 * programs, steps and observations; the validator gradspec itself uses (JSON Schema plus the
 * semantic checks); the PyTorch printer; and the spelling of observation data (NaN, infinities
 * and -0 as the strings "nan", "inf", "-inf", "-0").
 */
export * from '../../spec/program.ts';
export {
  MAX_ELEMENTS, MAX_EXECUTED, MAX_STEPS, ProgramError, observationsProblem, validateFixture, validateProgram,
  type Difference, type Fixture, type ProgramProblem,
} from './validate.ts';
export { toPytorch } from './to-pytorch.ts';
export { decode, encode } from './data.ts';
