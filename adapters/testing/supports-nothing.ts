import { supportsNothing } from './limited-engines.ts';

/** `gradspec check --engine adapters/testing/supports-nothing.ts`: a run that checks nothing. */
export default supportsNothing;
