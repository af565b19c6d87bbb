// A worker process under the supervisor (cluster.ts): runs the roles in handoff
// mode, reports when it is ready (or why it could not start), serves the
// connections it is handed, tells the supervisor when each ends, and stops when
// asked or when the supervisor goes away.

import type net from 'node:net';
import type { Config } from '../config/index.ts';
import type { Logger } from '../log/logger.ts';
import { type Role, startServer } from './start.ts';
import { type FromWorker, peerKey, type ToWorker } from './worker-protocol.ts';

function send(message: FromWorker): void {
  process.send?.(message);
}

export async function runWorker(
  config: Config,
  options: { logger: Logger; roles: readonly Role[]; env?: NodeJS.ProcessEnv },
): Promise<void> {
  let server: Awaited<ReturnType<typeof startServer>> | null = null;
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    // Asked to stop while still starting: nothing was accepted yet, so just go.
    if (server !== null) await server.stop();
    process.exit(0);
  };
  // Listen before starting: a stop can arrive while the roles are still starting.
  process.on('message', (message: ToWorker, socket?: net.Socket) => {
    if (message.type === 'stop') void stop();
    else if (message.type === 'connection' && socket) {
      if (server === null || stopping) socket.destroy();
      else {
        server.accept(message.role, socket);
        socket.resume();
      }
    }
  });
  process.on('disconnect', () => void stop());
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => {}); // the supervisor decides; Ctrl-C reaches the whole group

  try {
    server = await startServer(config, {
      ...options,
      mode: 'handoff',
      onConnectionClosed: (_role, address, port) => send({ type: 'closed', key: peerKey(address, port) }),
    });
  } catch (e) {
    send({ type: 'failed', error: e instanceof Error ? e.message : String(e) });
    process.exitCode = 1;
    process.disconnect?.();
    return;
  }
  if (stopping) {
    await server.stop();
    return;
  }
  send({ type: 'ready' });
}
