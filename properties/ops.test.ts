import { OP_PROPERTIES } from './ops.ts';
import { describeProperties } from './vitest.ts';

describeProperties('op gradient properties', OP_PROPERTIES);
