import { COMPOSITIONS } from './compositions.ts';
import { describeProperties } from './vitest.ts';

describeProperties('composition properties', COMPOSITIONS);
