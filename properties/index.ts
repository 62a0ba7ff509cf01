import type { AnyProperty } from './property.ts';
import { ACTIVATION_PROPERTIES } from './activations.ts';
import { COMPOSITIONS } from './compositions.ts';
import { LOSS_SECOND_ORDER } from './loss-second-order.ts';
import { DTYPE_PROPERTIES } from './dtypes.ts';
import { model } from './model.ts';
import { viewsModel } from './views-model.ts';
import { VIEWS_INPLACE } from './views-inplace.ts';
import { OP_PROPERTIES } from './ops.ts';
import { INDEX_PROPERTIES } from './indexing.ts';
import { SEMANTICS } from './semantics.ts';
import { TENSOR_PROGRAMS } from './tensor-programs.ts';

/** Every property of the suite, in report order. */
export const PROPERTIES: AnyProperty[] = [...OP_PROPERTIES, ...INDEX_PROPERTIES, ...ACTIVATION_PROPERTIES, ...LOSS_SECOND_ORDER, ...DTYPE_PROPERTIES, ...COMPOSITIONS, ...TENSOR_PROGRAMS, ...SEMANTICS, model, viewsModel, VIEWS_INPLACE];
