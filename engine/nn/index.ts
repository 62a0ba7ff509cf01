import * as activations from './activations.ts';
import * as losses from './losses.ts';

/** `F`, mirroring `torch.nn.functional`: `F.softplus(x, { beta: 2 })` reads as `F.softplus(x, beta=2)`. */
export const F = Object.freeze({ ...activations, ...losses });
