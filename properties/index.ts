import type { AnyProperty } from './property.ts';
import { SEMANTICS } from './semantics.ts';

/** Every property of the suite, in report order. */
export const PROPERTIES: AnyProperty[] = [...SEMANTICS];
