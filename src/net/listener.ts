// Readiness-gated listeners (DESIGN invariant 10): a port opens only after every
// readiness check of its role has passed (store reachable, keys loaded,
// certificate valid). A failed or timed-out check means listen() is never called,
// so a client can never reach a half-started service (and a load balancer never
// sees the port). close() stops accepting at once and destroys connections still
// open after a grace period, so shutdown cannot hang on an idle IMAP client.

import type net from 'node:net';
import type { Logger } from 'pino';
import { type ErrorCode, isSealpostError, SealpostError } from '../core/errors.ts';

export type ReadinessCheck = { name: string; check: () => Promise<void> };

export interface ListenerOptions {
  /** Names the listener in logs and errors, e.g. 'imaps'. */
  name: string;
  server: net.Server;
  host: string;
  /** 0 binds an ephemeral port; the bound one is returned. */
  port: number;
  checks: ReadinessCheck[];
  logger?: Logger;
  /** How long close() waits for open connections before destroying them; default 10 s. */
  closeGraceMs?: number;
  /** A check that has not settled after this long counts as failed; default 30 s. */
  checkTimeoutMs?: number;
}

export interface OpenListener {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** Number of connections currently open. */
  connections(): number;
  close(): Promise<void>;
}

interface Failure {
  name: string;
  error: unknown;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function runCheck(c: ReadinessCheck, timeoutMs: number): Promise<Failure | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not finish within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([Promise.resolve().then(c.check), timeout]);
    return undefined;
  } catch (error) {
    return { name: c.name, error };
  } finally {
    clearTimeout(timer);
  }
}

/** Run every check (concurrently) and throw one error naming the listener and each failed check. */
export async function ensureReady(
  opts: Pick<ListenerOptions, 'name' | 'checks' | 'checkTimeoutMs'>,
): Promise<void> {
  const timeoutMs = opts.checkTimeoutMs ?? 30_000;
  const results = await Promise.all(opts.checks.map((c) => runCheck(c, timeoutMs)));
  const failures = results.filter((f): f is Failure => f !== undefined);
  if (failures.length === 0) return;
  const summary = failures.map((f) => `'${f.name}': ${message(f.error)}`).join('; ');
  // A single typed failure keeps its code (e.g. 'tls.invalid-certificate', 'store.unavailable').
  const only = failures.length === 1 ? failures[0]!.error : undefined;
  const code: ErrorCode = isSealpostError(only) ? only.code : 'internal';
  throw new SealpostError(code, `listener '${opts.name}' not opened: readiness check ${summary}`, {
    listener: opts.name,
    failedChecks: failures.map((f) => f.name),
  });
}

function bind(server: net.Server, host: string, port: number, name: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      reject(
        new SealpostError(
          'internal',
          `listener '${name}' cannot listen on ${host}:${port}: ${err.code ?? err.message}`,
          {
            listener: name,
            host,
            port,
            errno: err.code,
          },
        ),
      );
    };
    const onListening = (): void => {
      server.off('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ host, port });
  });
}

export async function openListener(opts: ListenerOptions): Promise<OpenListener> {
  const { name, server, host, logger } = opts;
  const log = logger?.child({ listener: name });
  await ensureReady(opts);
  log?.debug({ checks: opts.checks.map((c) => c.name) }, 'readiness checks passed');

  // 'connection' carries the raw socket for net.Server and tls.Server alike.
  // Protocol code may strip listeners from a raw socket (smtp-server does on STARTTLS),
  // so 'close' alone cannot be trusted to untrack it: destroyed sockets are also swept
  // whenever the set doubles since the last sweep (amortised O(1) per connection).
  const sockets = new Set<net.Socket>();
  let sweepAt = 64;
  const sweep = (): number => {
    for (const s of sockets) if (s.destroyed) sockets.delete(s);
    sweepAt = Math.max(64, sockets.size * 2);
    return sockets.size;
  };
  const track = (socket: net.Socket): void => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    if (sockets.size >= sweepAt) sweep();
  };
  server.on('connection', track);
  let port: number;
  try {
    port = await bind(server, host, opts.port, name);
  } catch (e) {
    server.off('connection', track);
    throw e;
  }
  log?.info({ host, port }, 'listening');

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      const grace = setTimeout(() => {
        if (sockets.size > 0) log?.info({ open: sockets.size }, 'grace period over; closing connections');
        for (const s of sockets) s.destroy();
      }, opts.closeGraceMs ?? 10_000);
      grace.unref();
      // server.close() calls back once its last connection has ended (the server's own
      // count); our set only serves the grace-period destroy.
      await new Promise<void>((resolve) => server.close(() => resolve()));
      sockets.clear();
      clearTimeout(grace);
      server.off('connection', track);
      log?.info('closed');
    })();
    return closing;
  };
  return { name, host, port, connections: sweep, close };
}
