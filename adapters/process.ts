import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Observations, Program } from '../spec/program.ts';
import type { Adapter, Capabilities } from './types.ts';

/**
 * An engine in another process, speaking spec/adapters.md's protocol: one JSON message per line
 * on stdin and stdout. One process serves a whole run; programs go in batches.
 */
export class AdapterError extends Error {
  override readonly name = 'AdapterError';
}

export interface ProcessOptions {
  /** How long the engine may take to say hello (importing a framework can take seconds). */
  helloTimeoutMs?: number;
  /** How long one batch may take before the engine is considered hung. */
  batchTimeoutMs?: number;
}

interface Pending {
  resolve: (results: Observations[]) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/** Splits a command line into words; double or single quotes group words. */
export function splitCommand(command: string): string[] {
  const words: string[] = [];
  for (const m of command.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)) words.push(m[1] ?? m[2] ?? m[3]!);
  return words;
}

export async function processAdapter(command: string[], options: ProcessOptions = {}): Promise<Adapter> {
  const [file, ...args] = command;
  if (!file) throw new AdapterError('no command given for the engine');
  const child: ChildProcessWithoutNullStreams = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const kill = () => child.kill('SIGKILL');
  // The harness never leaves an engine process behind, however it ends.
  process.once('exit', kill);
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr = (stderr + d).slice(-4000);
  });
  const pending = new Map<number, Pending>();
  let helloWaiter: ((m: Record<string, unknown>) => void) | null = null;
  /** Why the engine can no longer be used; the first cause is kept (a crash follows a kill). */
  let exited: string | null = null;
  const dead = (why: string) => {
    exited ??= why;
    failAll(exited);
  };
  const failAll = (why: string) => {
    for (const p of pending.values()) {
      clearTimeout(p.timer);
      p.reject(new AdapterError(why));
    }
    pending.clear();
  };
  child.on('error', (e) => dead(`could not start '${command.join(' ')}': ${e.message}`));
  child.on('exit', (code, signal) => {
    process.off('exit', kill);
    dead(`the engine process exited (${signal ?? `code ${code}`})${stderr.trim() ? `: ${stderr.trim()}` : ''}`);
  });
  createInterface({ input: child.stdout }).on('line', (line) => {
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(line) as Record<string, unknown>;
    } catch {
      dead(`the engine printed something that is not a protocol message: ${line.slice(0, 200)}`);
      kill();
      return;
    }
    if (message.type === 'hello' && helloWaiter) return helloWaiter(message);
    const p = pending.get(message.id as number);
    if (!p) return;
    pending.delete(message.id as number);
    clearTimeout(p.timer);
    if (message.type === 'observations' && Array.isArray(message.results)) p.resolve(message.results as Observations[]);
    else p.reject(new AdapterError(`the engine reported: ${String(message.message ?? JSON.stringify(message))}`));
  });
  child.stdin.on('error', () => undefined); // a dead engine is reported through 'exit'
  const send = (m: object) => child.stdin.write(`${JSON.stringify(m)}\n`);

  const hello = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new AdapterError(`no hello from the engine within ${options.helloTimeoutMs ?? 60_000} ms`)), options.helloTimeoutMs ?? 60_000);
    helloWaiter = (m) => {
      clearTimeout(timer);
      resolve(m);
    };
    const gone = () => {
      clearTimeout(timer);
      reject(new AdapterError(exited ?? 'the engine process exited before saying hello'));
    };
    // A command that cannot start emits 'error' and no 'exit'; one that ends emits 'exit'.
    child.once('exit', gone);
    child.once('error', gone);
    send({ type: 'hello', protocol: 1 });
  }).catch((e: Error) => {
    kill();
    throw e;
  });
  helloWaiter = null;

  let nextId = 1;
  return {
    name: String(hello.name ?? command.join(' ')),
    version: String(hello.version ?? '?'),
    capabilities: hello.capabilities as Capabilities,
    run: (programs: readonly Program[]) => new Promise<Observations[]>((resolve, reject) => {
      if (exited) return reject(new AdapterError(exited));
      const id = nextId++;
      const ms = options.batchTimeoutMs ?? 120_000;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new AdapterError(`the engine did not answer a batch of ${programs.length} programs within ${ms} ms`));
        kill();
      }, ms);
      pending.set(id, {
        resolve: (results) => (results.length === programs.length ? resolve(results)
          : reject(new AdapterError(`the engine answered ${results.length} results for ${programs.length} programs`))),
        reject, timer,
      });
      send({ type: 'run', id, programs });
    }),
    close: async () => {
      if (exited) return;
      send({ type: 'shutdown' });
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          kill();
          resolve();
        }, 5_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}
