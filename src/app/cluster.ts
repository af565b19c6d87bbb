// Several worker processes behind one supervisor, so a node uses every core.
//
// The supervisor (this module, in the primary process) owns the listening sockets;
// it opens them only after every worker has passed its readiness checks (DESIGN
// invariant 10). For each accepted connection it applies the per-address and total
// limits — exactly, for the whole node, which per-worker counting could not do —
// then hands the socket to the least busy worker over IPC. Workers (worker.ts) run
// the roles in 'handoff' mode and report each connection's end.
//
// A worker that dies is replaced; its connections are gone with it (SMTP clients
// retry: nothing is acknowledged before it is durable). Stopping closes the
// listeners first, then asks each worker to finish and exit.

import cluster, { type Worker } from 'node:cluster';
import net from 'node:net';
import type { Config } from '../config/index.ts';
import type { Logger } from '../log/logger.ts';
import { ConnectionLimiter } from '../net/connection-limits.ts';
import { openListener } from '../net/listener.ts';
import { REPLIES } from '../smtp/replies.ts';
import type { Listening, Role } from './start.ts';
import { type FromWorker, peerKey, type ToWorker } from './worker-protocol.ts';

export interface ClusterOptions {
  readonly config: Config;
  readonly logger: Logger;
  readonly roles: readonly Role[];
  readonly workers: number;
  /** argv for the worker processes (the CLI entry and its flags). */
  readonly workerArgs: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
}

export interface RunningCluster {
  readonly listening: readonly Listening[];
  stop(): Promise<void>;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  active: number;
}

interface Conn {
  readonly slot: Slot;
  readonly address: string;
}

/** What a refused connection is told, per role, before it is closed. */
function refusal(role: Role, config: Config): string {
  switch (role) {
    case 'mx':
    case 'submission':
      return `${REPLIES.tooManyConnections().responseCode} ${config.hostname} ${REPLIES.tooManyConnections().message}\r\n`;
    case 'imap':
      return '* BYE Too many connections\r\n';
    case 'pop3':
      return '-ERR [SYS/TEMP] Too many connections\r\n';
    case 'web':
    case 'delivery':
      // Before TLS: nothing an HTTPS client can read; close without a word.
      return '';
  }
}

export async function startCluster(opts: ClusterOptions): Promise<RunningCluster> {
  const { config, logger } = opts;
  const limiter = new ConnectionLimiter({
    maxPerAddress: config.mx.max_connections_per_address,
    maxTotal: config.mx.max_connections,
  });
  const slots: Slot[] = [];
  const conns = new Map<string, Conn>(); // peerKey -> connection
  let stopping = false;
  let fatal: ((e: Error) => void) | null = null;
  let onReady = () => {};

  cluster.setupPrimary({ exec: opts.workerArgs[0]!, args: [...opts.workerArgs.slice(1)], silent: false });

  const fork = (): Slot => {
    const worker = cluster.fork(opts.env ?? process.env);
    const slot: Slot = { worker, ready: false, active: 0 };
    slots.push(slot);
    worker.on('message', (msg: FromWorker) => {
      if (msg.type === 'ready') {
        slot.ready = true;
        onReady();
      } else if (msg.type === 'failed') fatal?.(new Error(msg.error));
      else if (msg.type === 'closed') release(msg.key);
    });
    worker.on('exit', (code, signal) => {
      slots.splice(slots.indexOf(slot), 1);
      for (const [key, c] of conns) if (c.slot === slot) release(key);
      if (stopping) return;
      logger.error({ pid: worker.process.pid, code, signal }, 'worker exited; starting a replacement');
      if (slot.ready) setTimeout(() => fork(), 1000).unref();
      else fatal?.(new Error(`worker exited during start-up (code ${code}, signal ${signal})`));
    });
    return slot;
  };

  const release = (key: string) => {
    const c = conns.get(key);
    if (c === undefined) return;
    conns.delete(key);
    c.slot.active--;
    limiter.release(c.address);
  };

  const dispatch = (role: Role) => (socket: net.Socket) => {
    const address = socket.remoteAddress ?? '';
    const ready = slots.filter((s) => s.ready);
    if (ready.length === 0 || !limiter.tryAcquire(address)) {
      socket.end(refusal(role, config));
      return;
    }
    const slot = ready.reduce((a, b) => (b.active < a.active ? b : a));
    const key = peerKey(address, socket.remotePort ?? 0);
    conns.set(key, { slot, address });
    slot.active++;
    const message: ToWorker = { type: 'connection', role };
    slot.worker.send(message, socket, { keepOpen: false }, (err) => {
      if (err) {
        release(key);
        socket.destroy();
      }
    });
  };

  // Start the workers and wait until every one is ready, or one fails.
  const count = Math.max(1, opts.workers);
  try {
    await new Promise<void>((resolve, reject) => {
      fatal = reject;
      onReady = () => {
        if (slots.length === count && slots.every((s) => s.ready)) resolve();
      };
      for (let i = 0; i < count; i++) fork();
    });
  } catch (e) {
    stopping = true;
    for (const s of slots) s.worker.process.kill('SIGKILL');
    throw e;
  }
  fatal = (e) => logger.error({ err: { message: e.message } }, 'worker failed');
  onReady = () => {};

  const listeners: { close(): Promise<void> }[] = [];
  const listening: Listening[] = [];
  if (opts.roles.includes('mx') && config.mx.enabled) {
    const server = net.createServer({ pauseOnConnect: true }, dispatch('mx'));
    const l = await openListener({
      name: 'mx',
      server,
      host: config.mx.host,
      port: config.mx.port,
      checks: [], // every worker passed its own readiness checks above
      logger,
      // Accepted sockets live on in the workers; what is left here is a stale copy.
      closeGraceMs: 0,
    });
    listeners.push(l);
    listening.push({ role: 'mx', host: l.host, port: l.port });
  }
  logger.info({ workers: count }, 'supervisor: listening');

  return {
    listening,
    async stop() {
      if (stopping) return;
      stopping = true;
      await Promise.allSettled(listeners.map((l) => l.close()));
      await Promise.all(
        slots.map(
          (s) =>
            new Promise<void>((resolve) => {
              const kill = setTimeout(() => s.worker.process.kill('SIGKILL'), 15_000);
              s.worker.once('exit', () => {
                clearTimeout(kill);
                resolve();
              });
              const stop: ToWorker = { type: 'stop' };
              s.worker.send(stop);
            }),
        ),
      );
    },
  };
}
