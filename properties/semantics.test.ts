import { SEMANTICS } from './semantics.ts';
import { describeProperties } from './vitest.ts';

describeProperties('semantics properties', SEMANTICS);
