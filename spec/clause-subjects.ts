/**
 * What each clause is about, so that a check counts for a clause only when it exercised it.
 *
 * A subject is a list of alternatives; an alternative is a list of *atoms*, all of which a check
 * must have exercised on the engine. Atoms are read off the part of a program that runs (up to
 * and including the step expected to fail) and off the observation fields that were compared:
 *
 *   op:<name>            an op step (`op:matmul`)
 *   field:<name>         an observation field compared (the engine reports it and the check judges it)
 *   error:<category>     an expected error of that category, compared
 *   scalar-operand       a binary op with a plain number as an operand
 *   broadcast            a binary op whose tensor operands have different shapes
 *   dim-arg              an op given a dim (dim, dims, dim0/dim1)
 *   zero-data            a leaf with an element equal to 0 or -0
 *   mixed-dtype          leaves of more than one dtype
 *   dtype:int64, dtype:bool   a leaf of that dtype
 *   backward             a backward pass (`backward` or `autogradBackward`)
 *   repeated-backward    more than one backward pass in the program
 *   explicit-gradient    a gradient given to backward, autogradBackward or grad
 *   multi-root           autogradBackward of several tensors
 *   grad                 an autograd.grad step;  grad-outputs  with gradOutputs;  allow-unused  with allowUnused
 *   retain-graph, create-graph   a pass with that flag
 *   no-grad, enable-grad, set-grad-enabled   the grad-mode steps
 *   after-block          a step that runs after a noGrad/enableGrad block has ended
 *   inplace              an in-place op on a tensor (not on a `.grad`)
 *   inplace-no-grad      an in-place op while grad mode is off
 *   zero-grad            `.grad` zeroed in place or set to None
 *   requires-grad-toggle, retain-grad, detach-inplace   those steps;  detach  the detach op
 *   observe-grad         an observation of a `.grad`;  observe-non-leaf-grad  of an op result's `.grad`
 *   fan-in               a tensor used more than once as an operand
 *   deep                 at least 1,000 op steps run (repeat steps counted in full)
 *   item                 a value read as a Python number (`item`)
 *   view-inplace         an in-place op on a view op's result or on its input (they share storage)
 *   inplace-on-view      an in-place op on a view op's result;  inplace:<name>  an in-place op of that name
 *   index-basic, index-advanced   an index op with number, slice, null or '...' items / with tensor or array items
 *   index-put            an indexPut_ step
 *
 * Clauses about gradspec itself (the program format, the oracles) have no subject: they are
 * checked by gradspec's own tests and are outside an engine's verdict.
 *
 * This file only declares data; spec/ imports nothing from outside spec/.
 */
import type { ClauseId } from './clauses.ts';

export type Subject = readonly (readonly string[])[];

const OP_CLAUSES = [
  'add', 'sub', 'mul', 'div', 'pow', 'neg', 'exp', 'log', 'sin', 'cos', 'tan', 'tanh', 'sigmoid', 'relu', 'sqrt', 'abs',
  'reciprocal', 'log1p', 'expm1', 'erf', 'atan', 'asin', 'acos', 'sinh', 'cosh', 'asinh', 'acosh', 'atanh', 'rsqrt', 'square',
  'sign', 'floor', 'ceil', 'round', 'trunc', 'matmul', 'sum', 'mean', 'max', 'min', 'amax', 'amin', 'maximum', 'minimum', 'reshape', 'view', 'transpose', 't', 'permute', 'unsqueeze', 'squeeze', 'expand', 'clone', 'select', 'narrow', 'diagonal', 'unbind',
  'prod', 'cumsum', 'cumprod', 'var', 'std', 'norm', 'cat', 'stack', 'flip', 'roll', 'repeat',
] as const;

/** The losses' clauses are slugs of the op names (lower case): `op.mse-loss` is about `mseLoss`. */
const LOSS_CLAUSES = {
  'op.mse-loss': 'mseLoss', 'op.l1-loss': 'l1Loss', 'op.smooth-l1-loss': 'smoothL1Loss', 'op.binary-cross-entropy': 'binaryCrossEntropy',
  'op.binary-cross-entropy-with-logits': 'binaryCrossEntropyWithLogits', 'op.nll-loss': 'nllLoss', 'op.cross-entropy': 'crossEntropy',
} as const;

const one = (...atoms: string[]): Subject => [atoms];

export const CLAUSE_SUBJECTS: Readonly<Record<ClauseId, Subject | null>> = {
  'tensor.create': one('field:value'),
  'tensor.dtype': one('field:dtype'),
  'tensor.promotion': one('mixed-dtype', 'field:dtype'),
  'tensor.item': one('item'),
  'tensor.repr': one('field:repr'),
  'graph.requires-grad': one('field:requiresGrad'),
  'graph.is-leaf': one('field:isLeaf'),
  'graph.grad-fn': one('field:gradFn'),
  'graph.next-functions': one('field:nextFunctions'),
  'graph.requires-grad-toggle': one('requires-grad-toggle'),
  'graph.detach': one('detach'),
  'graph.detach-inplace': one('detach-inplace'),
  'backward.scalar-seed': one('backward'),
  'backward.implicit-non-scalar': one('error:implicit-non-scalar'),
  'backward.explicit-gradient': one('explicit-gradient'),
  'backward.gradient-shape': one('explicit-gradient', 'error:shape-mismatch'),
  'backward.no-grad-fn': one('error:no-grad-fn'),
  'backward.accumulate': one('repeated-backward'),
  'backward.zero-grad': one('zero-grad'),
  'backward.leaf-only': one('observe-non-leaf-grad'),
  'backward.retain-grad': one('retain-grad'),
  'backward.freed-graph': one('error:freed-graph'),
  'backward.retain-graph': one('retain-graph'),
  'backward.fan-in': one('fan-in', 'backward'),
  'backward.broadcast-reduce': [['broadcast', 'backward'], ['broadcast', 'grad']],
  'backward.grad-dtype': one('observe-grad', 'field:dtype'),
  'backward.create-graph': one('create-graph'),
  'backward.multi-root': one('multi-root'),
  'backward.iterative': one('deep', 'backward'),
  'grad.returns': one('grad'),
  'grad.grad-outputs': one('grad-outputs'),
  'grad.input-no-grad': one('error:input-no-grad'),
  'grad.unused-input': one('error:unused-input'),
  'grad.allow-unused': one('allow-unused'),
  'mode.no-grad': one('no-grad'),
  'mode.enable-grad': one('enable-grad'),
  'mode.set-grad-enabled': one('set-grad-enabled'),
  'mode.restore': one('after-block'),
  'inplace.version-counter': one('field:version'),
  'inplace.leaf-error': one('error:leaf-inplace'),
  'inplace.no-grad-leaf': one('inplace-no-grad'),
  'inplace.history': one('inplace'),
  'inplace.saved-modified': one('error:saved-modified'),
  'inplace.shape': one('inplace'),
  'views.alias': [['view-inplace'], ['field:sharesStorage']],
  'views.layout': [['field:stride'], ['field:storageOffset'], ['field:isContiguous']],
  'views.rebase': [['inplace-on-view', 'backward'], ['inplace-on-view', 'field:gradFn']],
  'views.inplace-refusals': [['view-inplace', 'error:leaf-inplace'], ['view-inplace', 'error:invalid-argument']],
  'views.saved': one('view-inplace', 'error:saved-modified'),
  'op.split': [['op:split'], ['op:chunk']],
  'op.copy': one('inplace:copy_'),
  'index.basic': one('index-basic'),
  'index.advanced': one('index-advanced'),
  'index.put': one('index-put'),
  'dtype.create': [['dtype:int64', 'field:value'], ['dtype:bool', 'field:value']],
  'dtype.requires-grad': [['dtype:int64', 'field:requiresGrad'], ['dtype:bool', 'field:requiresGrad'],
    ['dtype:int64', 'error:invalid-argument'], ['dtype:bool', 'error:invalid-argument'],
    // A comparison's bool result never requires grad, whatever its operands.
    ...['gt', 'ge', 'lt', 'le', 'eq', 'ne'].map((op) => [`op:${op}`, 'field:requiresGrad'])],
  'dtype.promotion': [['dtype:int64', 'field:dtype'], ['dtype:bool', 'field:dtype']],
  'dtype.ops': [['dtype:int64', 'field:dtype'], ['dtype:bool', 'field:dtype'],
    ['dtype:int64', 'error:invalid-argument'], ['dtype:bool', 'error:invalid-argument']],
  'dtype.repr': [['dtype:int64', 'field:repr'], ['dtype:bool', 'field:repr']],
  'op.compare': [['op:gt'], ['op:ge'], ['op:lt'], ['op:le'], ['op:eq'], ['op:ne']],
  'op.where': one('op:where'),
  'op.where.nan-trap': one('op:where', 'op:sqrt', 'zero-data'),
  'op.broadcast': one('broadcast'),
  'op.scalar-operands': one('scalar-operand'),
  ...(Object.fromEntries(OP_CLAUSES.map((op) => [`op.${op}`, one(`op:${op}`)])) as Record<`op.${(typeof OP_CLAUSES)[number]}`, Subject>),
  ...(Object.fromEntries(Object.entries(LOSS_CLAUSES).map(([id, op]) => [id, one(`op:${op}`)])) as Record<keyof typeof LOSS_CLAUSES, Subject>),
  'op.pow.zero-base': one('op:pow', 'zero-data'),
  'op.relu.kink': one('op:relu', 'zero-data'),
  'op.sqrt.zero': one('op:sqrt', 'zero-data'),
  'op.abs.kink': one('op:abs', 'zero-data'),
  'op.prod.zeros': one('op:prod', 'zero-data'),
  'op.index-select': one('op:indexSelect'),
  'op.index-select.duplicates': one('op:indexSelect', 'backward'),
  'op.gather': one('op:gather'),
  'op.gather.duplicates': one('op:gather', 'backward'),
  'op.scatter': one('op:scatter'),
  // Not specified for engines: what it promises is that gradspec's generators stay away from it.
  'op.scatter-add': one('op:scatterAdd'),
  'op.index-add': one('op:indexAdd'),
  'op.masked-fill': one('op:maskedFill'),
  'op.clamp': [['op:clamp'], ['op:clampMin'], ['op:clampMax']],
  'op.argmax': [['op:argmax'], ['op:argmin']],
  'op.max-dim': [['op:max', 'tuple-result'], ['op:min', 'tuple-result']],
  'op.dims': one('dim-arg'),
  'op.softmax': one('op:softmax'),
  'op.log-softmax': one('op:logSoftmax'),
  'op.logsumexp': one('op:logsumexp'),
  'op.softplus': one('op:softplus'),
  'op.leaky-relu': one('op:leakyRelu'),
  'op.elu': one('op:elu'),
  'op.gelu': one('op:gelu'),
  'op.silu': one('op:silu'),
  'errors.class': [['error:shape-mismatch'], ['error:invalid-argument'], ['error:freed-graph'], ['error:implicit-non-scalar'],
    ['error:no-grad-fn'], ['error:leaf-inplace'], ['error:saved-modified'], ['error:non-leaf-requires-grad'],
    ['error:input-no-grad'], ['error:unused-input']],
  'program.schema': null,
  'program.pytorch-code': null,
  'program.observations': null,
  'oracles.expand': null,
  'oracles.symbolic': null,
  'oracles.finite-difference': null,
  'oracles.agreement': null,
};
