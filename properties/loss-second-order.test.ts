import { LOSS_SECOND_ORDER } from './loss-second-order.ts';
import { describeProperties } from './vitest.ts';

describeProperties('loss second-order properties', LOSS_SECOND_ORDER);
