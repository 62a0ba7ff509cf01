import { DTYPE_PROPERTIES } from './dtypes.ts';
import { describeProperties } from './vitest.ts';

describeProperties('int64, bool, comparison and where properties', DTYPE_PROPERTIES);
