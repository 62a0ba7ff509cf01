import { createInterface } from 'node:readline';
import { findAdapter } from './index.ts';

/**
 * Serves an in-process adapter over the protocol of spec/adapters.md, so any engine gradspec can
 * load in-process can also run in its own process:
 *   node --import tsx adapters/serve.ts reference
 *   gradspec check --engine "node --import tsx adapters/serve.ts mutant:pow-exponent-2"
 * It is also the worked example of the protocol's engine side, in TypeScript.
 */
const name = process.argv[2] ?? 'reference';
const adapter = findAdapter(name);
if (!adapter) {
  process.stderr.write(`serve: unknown engine '${name}'\n`);
  process.exit(2);
}

const send = (message: object) => process.stdout.write(`${JSON.stringify(message)}\n`);

for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  const message = JSON.parse(line) as { type: string; id?: number; programs?: [] };
  if (message.type === 'hello') {
    send({ type: 'hello', protocol: 1, name: adapter.name, version: adapter.version, capabilities: adapter.capabilities });
  } else if (message.type === 'run') {
    try {
      send({ type: 'observations', id: message.id, results: await adapter.run(message.programs ?? []) });
    } catch (e) {
      send({ type: 'error', id: message.id, message: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
    }
  } else if (message.type === 'shutdown') {
    break;
  } else {
    send({ type: 'error', id: message.id, message: `unknown message type '${message.type}'` });
  }
}
// Exit at once on shutdown: stdin may stay open, and the harness must not wait for it.
process.exit(0);
