import { TENSOR_PROGRAMS } from './tensor-programs.ts';
import { describeProperties } from './vitest.ts';

describeProperties('tensor program properties', TENSOR_PROGRAMS);
