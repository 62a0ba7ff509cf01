import { withoutOps } from './limited-engines.ts';

/** `gradspec check --engine adapters/testing/no-matmul.ts`: an engine without matmul. */
export default withoutOps('no-matmul', ['matmul']);
