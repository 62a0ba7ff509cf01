import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Observations, Program } from '../spec/program.ts';
import { validateCapabilities } from './capabilities.ts';
import { describeInvalidJson } from './json-error.ts';
import { AdapterError, type Adapter, type Capabilities } from './types.ts';

export { AdapterError };

/**
 * An engine in another process, speaking spec/adapters.md's protocol: one JSON message per line
 * on stdin and stdout. One process serves a whole run; programs go in batches. A process that
 * crashes, hangs past its timeout or prints garbage is killed, the batch fails with the reason,
 * and the next batch starts a fresh process.
 */
export interface ProcessOptions {
  /** How long the engine may take to say hello (importing a framework can take seconds). */
  helloTimeoutMs?: number;
  /** How long one batch may take before the engine is considered hung. */
  batchTimeoutMs?: number;
  /** How many times in a row a dead engine is started again (with no batch answered in between) before gradspec gives up on it. */
  maxRestarts?: number;
  /**
   * The least time a program run again alone after a faulted batch may take (default 10 s); it
   * gets its share of the batch's timeout when that is more, and never more than the whole.
   */
  retryFloorMs?: number;
  /** How often a batch that is waited for says so (default 10 s). */
  heartbeatMs?: number;
  /** Where those lines go: default stderr when it is a terminal or CI is set, else nowhere (null). */
  heartbeat?: ((line: string) => void) | null;
}

/** Heartbeat lines on stderr for a person or a CI log watching; never in a plain redirected run. */
export function defaultHeartbeat(
  stream: { isTTY?: boolean; write(text: string): unknown } = process.stderr,
  env: Record<string, string | undefined> = process.env,
): ((line: string) => void) | null {
  const ci = env.CI !== undefined && !['', '0', 'false'].includes(env.CI);
  if (!stream.isTTY && !ci) return null;
  // On a terminal the line replaces the progress line, which is redrawn after it.
  return (line) => stream.write(stream.isTTY ? `\r\u001b[K${line}\n` : `${line}\n`);
}

const notAMessage = (line: string) =>
  `the engine printed something that is not a protocol message: ${line.slice(0, 200)} (stdout is for protocol messages only; logs go to stderr)`;

const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;

/** Splits a command line into words; double or single quotes group words. */
export function splitCommand(command: string): string[] {
  const words: string[] = [];
  for (const m of command.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)) words.push(m[1] ?? m[2] ?? m[3]!);
  return words;
}

interface Hello { name?: unknown; version?: unknown; capabilities?: unknown }

/** One running engine process. */
class Connection {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly pending = new Map<number, { resolve: (r: unknown[]) => void; reject: (e: Error) => void; timer: ReturnType<typeof setTimeout> }>();
  private stderr = '';
  private nextId = 1;
  private helloWaiter: ((m: Hello) => void) | null = null;
  /** Why the process can no longer be used; the first cause is kept (a crash follows a kill). */
  dead: string | null = null;
  private readonly killOnExit = () => this.kill();

  constructor(private readonly command: string[], private readonly options: ProcessOptions) {
    const [file, ...args] = command;
    this.child = spawn(file!, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    // The harness never leaves an engine process behind, however it ends.
    process.once('exit', this.killOnExit);
    this.child.stderr.setEncoding('utf8').on('data', (d: string) => {
      this.stderr = (this.stderr + d).slice(-4000);
    });
    this.child.on('error', (e) => this.die(`could not start '${command.join(' ')}': ${e.message}`));
    this.child.on('exit', (code, signal) => {
      process.off('exit', this.killOnExit);
      this.die(`the engine process exited (${signal ?? `code ${code}`})${this.stderr.trim() ? `: ${this.stderr.trim()}` : ''}`);
    });
    this.child.stdin.on('error', () => undefined); // a dead engine is reported through 'exit'
    createInterface({ input: this.child.stdout }).on('line', (line) => this.receive(line));
  }

  private die(why: string): void {
    this.dead ??= why;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new AdapterError(this.dead));
    }
    this.pending.clear();
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }

  private receive(line: string): void {
    if (!line.trim()) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (e) {
      // A line that starts like a message is a message gone wrong; anything else is stray output.
      return this.fail(/^\s*[{[]/.test(line) ? `the engine printed ${describeInvalidJson(line, e as Error)}` : notAMessage(line));
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return this.fail(notAMessage(line));
    const message = parsed as Record<string, unknown>;
    if (message.type === 'hello' && this.helloWaiter) return this.helloWaiter(message as Hello);
    const p = this.pending.get(message.id as number);
    if (!p) return;
    this.pending.delete(message.id as number);
    clearTimeout(p.timer);
    if (message.type === 'observations' && Array.isArray(message.results)) p.resolve(message.results);
    else p.reject(new AdapterError(`the engine reported: ${String(message.message ?? JSON.stringify(message))}`));
  }

  private fail(why: string): void {
    this.die(why);
    this.kill();
  }

  private send(m: object): void {
    this.child.stdin.write(`${JSON.stringify(m)}\n`);
  }

  hello(): Promise<Hello> {
    const ms = this.options.helloTimeoutMs ?? 60_000;
    return new Promise<Hello>((resolve, reject) => {
      const timer = setTimeout(() => reject(new AdapterError(`no hello from the engine within ${ms} ms`)), ms);
      this.helloWaiter = (m) => {
        clearTimeout(timer);
        this.helloWaiter = null;
        resolve(m);
      };
      // A command that cannot start emits 'error' and no 'exit'; one that ends emits 'exit'.
      const gone = () => {
        clearTimeout(timer);
        reject(new AdapterError(this.dead ?? 'the engine process exited before saying hello'));
      };
      this.child.once('exit', gone);
      this.child.once('error', gone);
      this.send({ type: 'hello', protocol: 1 });
    }).catch((e: Error) => {
      this.kill();
      throw e;
    });
  }

  /** Runs one batch; `waiting` is called every heartbeat interval until it is answered. */
  run(programs: readonly Program[], ms: number, waiting?: (elapsedMs: number) => void): Promise<unknown[]> {
    const started = Date.now();
    const beat = waiting && setInterval(() => waiting(Date.now() - started), this.options.heartbeatMs ?? 10_000);
    return new Promise<unknown[]>((resolve, reject) => {
      if (this.dead) return reject(new AdapterError(this.dead));
      const id = this.nextId++;
      const timer = setTimeout(() => {
        this.fail(`the engine did not answer a batch of ${programs.length} program${programs.length === 1 ? '' : 's'} within ${ms} ms`);
      }, ms);
      this.pending.set(id, { resolve, reject, timer });
      this.send({ type: 'run', id, programs });
    }).finally(() => clearInterval(beat));
  }

  async close(): Promise<void> {
    if (this.dead) return;
    this.send({ type: 'shutdown' });
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.kill();
        resolve();
      }, 5_000);
      this.child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

export async function processAdapter(command: string[], options: ProcessOptions = {}): Promise<Adapter> {
  if (command.length === 0) throw new AdapterError('no command given for the engine');
  let connection = new Connection(command, options);
  const hello = await connection.hello();
  let capabilities: Capabilities;
  try {
    capabilities = validateCapabilities(hello.capabilities, 'its hello');
  } catch (e) {
    connection.kill();
    throw e;
  }
  const name = String(hello.name ?? command.join(' '));
  // Deaths in a row, with no batch answered in between: an engine that dies on everything is
  // given up on; one that dies on some programs is started again as often as it takes.
  let deathsInARow = 0;
  const maxRestarts = options.maxRestarts ?? 20;
  const batchMs = options.batchTimeoutMs ?? 120_000;
  const heartbeat = options.heartbeat === undefined ? defaultHeartbeat() : options.heartbeat;

  /** The live process, started again if the last one died (a crash or a kill fails only its batch). */
  const live = async (): Promise<Connection> => {
    if (!connection.dead) return connection;
    if (deathsInARow >= maxRestarts) throw new AdapterError(`the engine died ${deathsInARow} times in a row; gradspec gave up restarting it (last: ${connection.dead})`);
    deathsInARow++;
    connection = new Connection(command, options);
    await connection.hello();
    return connection;
  };

  return {
    name,
    version: String(hello.version ?? '?'),
    capabilities,
    run: async (programs, runOptions) => {
      const ms = runOptions?.timeoutMs ?? batchMs;
      const waiting = heartbeat
        ? (elapsed: number) => heartbeat(`gradspec: still waiting for ${name}: batch of ${programs.length} program${programs.length === 1 ? '' : 's'}, ${seconds(elapsed)} (timeout ${seconds(ms)})`)
        : undefined;
      const results = (await (await live()).run(programs, ms, waiting)) as Observations[];
      deathsInARow = 0;
      return results;
    },
    // A program that hung a batch has already cost one timeout: alone, it gets its share of the
    // batch's time, at least the floor, so a hang is not waited for twice in full.
    retryTimeoutMs: (batchSize) => Math.min(batchMs, Math.max(options.retryFloorMs ?? 10_000, Math.ceil(batchMs / batchSize))),
    close: () => connection.close(),
  };
}
