import type { AnyProperty } from './property.ts';
import { COMPOSITIONS } from './compositions.ts';
import { model } from './model.ts';
import { OP_PROPERTIES } from './ops.ts';
import { SEMANTICS } from './semantics.ts';

/** Every property of the suite, in report order. */
export const PROPERTIES: AnyProperty[] = [...OP_PROPERTIES, ...COMPOSITIONS, ...SEMANTICS, model];
