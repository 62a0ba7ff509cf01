/*
 * The losses of `F` (torch.nn.functional), each with `reduction: 'mean' | 'sum' | 'none'`, as
 * op-table rows or compositions of rows as PyTorch 1.13 records them.
 */
export {};
