/*
 * The activations of `F` (torch.nn.functional): softplus, leakyRelu, elu, gelu, silu, softmax and
 * logSoftmax, each an op-table row or a composition of rows as PyTorch 1.13 records it.
 */
export {};
