import { all, create } from 'mathjs';

/**
 * The one mathjs instance every oracle uses (importing mathjs costs about a second, and each
 * create() builds hundreds of functions). `predictable: true` makes log and sqrt of negatives NaN,
 * as in PyTorch, instead of complex numbers.
 */
export const math = create(all!, { predictable: true });
