import { ACTIVATION_PROPERTIES } from './activations.ts';
import { describeProperties } from './vitest.ts';

describeProperties('activation gradient properties', ACTIVATION_PROPERTIES);
