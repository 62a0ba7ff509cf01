import { createInterface } from 'node:readline';
import { referenceAdapter } from '../reference/index.ts';
import type { Program, Step } from '../../spec/program.ts';

/**
 * A deliberately faulty engine for gradspec's own tests: the reference engine behind the protocol,
 * misbehaving on programs that use one op. Usage: faulty-engine.ts [--capabilities=JSON] <fault>:<op> ...,
 * where --capabilities replaces the reference engine's in the hello, and fault is
 *   crash    the process exits in the middle of the batch
 *   hang     the batch is never answered
 *   garbage  a line that is not a protocol message is printed
 *   nan      the answer is JSON but for a bare NaN token, as Python's json.dumps writes it
 *   short    one result too few is returned
 *   malformed  the results are not observations
 *   throw    the batch is answered with an error message
 *   mark     nothing: `mark:<token>` tags the process, so that a test can find its own among others
 */
const CAPABILITIES = '--capabilities=';
const args = process.argv.slice(2);
const declared = args.find((a) => a.startsWith(CAPABILITIES));
const capabilities: unknown = declared ? JSON.parse(declared.slice(CAPABILITIES.length)) : referenceAdapter.capabilities;
const faults = new Map(args.filter((a) => a !== declared).map((a) => a.split(':') as [string, string]).map(([f, op]) => [op, f]));

const usesOp = (steps: readonly Step[], op: string): boolean => steps.some((s) =>
  ('op' in s && s.op === op) || ('noGrad' in s && usesOp(s.noGrad, op)) || ('enableGrad' in s && usesOp(s.enableGrad, op)));

function faultFor(programs: readonly Program[]): string | null {
  for (const [op, fault] of faults) if (programs.some((p) => usesOp(p.steps, op))) return fault;
  return null;
}

const send = (m: object) => process.stdout.write(`${JSON.stringify(m)}\n`);

for await (const line of createInterface({ input: process.stdin })) {
  const message = JSON.parse(line) as { type: string; id?: number; programs?: Program[] };
  if (message.type === 'hello') {
    send({ type: 'hello', protocol: 1, name: 'faulty', version: '0', capabilities });
  } else if (message.type === 'run') {
    const programs = message.programs ?? [];
    const results = await referenceAdapter.run(programs);
    switch (faultFor(programs)) {
      case 'crash': process.exit(7); break;
      case 'hang': break;
      case 'garbage': process.stdout.write('Segmentation fault (core dumped)\n'); break;
      case 'nan': process.stdout.write(`{"type":"observations","id":${message.id},"results":[{"observations":[{"label":"y","value":[1, NaN, 2]}],"error":null}]}\n`); break;
      case 'short': send({ type: 'observations', id: message.id, results: results.slice(1) }); break;
      case 'malformed': send({ type: 'observations', id: message.id, results: results.map(() => ({ observations: 'none' })) }); break;
      case 'throw': send({ type: 'error', id: message.id, message: 'internal error in the engine' }); break;
      default: send({ type: 'observations', id: message.id, results });
    }
  } else if (message.type === 'shutdown') {
    break;
  }
}
// stdin stays open after a shutdown message; without an explicit exit the process would linger until killed.
process.exit(0);
