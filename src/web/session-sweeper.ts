// The background sweep of web sessions (issue 4 item 4): sessions past their absolute
// expiry, idle too long, or pending (second factor due) too long are deleted from the
// store on a timer, not only when their cookie next comes back. A session nobody uses
// again would otherwise stay in the store until its account is deleted.
//
// Invariants:
// - The cutoffs are exactly those of session-policy.ts sessionTimeout: a session the
//   sweep deletes is one checkSession would refuse at the same instant, and no other.
// - The timer is unref'd (it never keeps the process alive) and stopped by stop();
//   sweeps never overlap, and a failed sweep is logged and retried at the next tick.
// - Any number of web nodes may sweep one shared store: deleting is idempotent.

import type { Logger } from '../log/logger.ts';
import type { Store, WebSessionCutoff } from '../store/types.ts';
import { PENDING_MS, type SessionPolicy } from './session-policy.ts';

export const SWEEP_INTERVAL_MS = 60_000;

/** The cutoffs at `now` under `policy` (see WebSessionCutoff). */
export function sweepCutoff(
  now: number,
  policy: Pick<SessionPolicy, 'idleMs' | 'absoluteMs'>,
): WebSessionCutoff {
  return {
    now,
    idleBefore: now - policy.idleMs,
    createdBefore: now - policy.absoluteMs,
    pendingCreatedBefore: now - PENDING_MS,
  };
}

/** One sweep: deletes every timed-out session; returns how many ended. */
export function sweepExpiredWebSessions(
  store: Pick<Store, 'deleteExpiredWebSessions'>,
  policy: Pick<SessionPolicy, 'idleMs' | 'absoluteMs'>,
  now: number,
): Promise<number> {
  return store.deleteExpiredWebSessions(sweepCutoff(now, policy));
}

export interface SweeperDeps {
  readonly store: Pick<Store, 'deleteExpiredWebSessions'>;
  readonly policy: Pick<SessionPolicy, 'idleMs' | 'absoluteMs'>;
  readonly now: () => number;
  readonly logger: Logger;
  readonly intervalMs?: number;
}

export interface SessionSweeper {
  /** Sweep now (also what the timer does); resolves to the number of sessions ended. */
  sweep(): Promise<number>;
  /** Stops the timer and waits for a sweep in progress (the store may close next). */
  stop(): Promise<void>;
}

export function startSessionSweeper(d: SweeperDeps): SessionSweeper {
  let running: Promise<number> | null = null;
  let stopped = false;
  const sweep = (): Promise<number> => {
    if (running !== null) return running;
    running = sweepExpiredWebSessions(d.store, d.policy, d.now()).finally(() => {
      running = null;
    });
    return running;
  };
  const timer = setInterval(() => {
    if (stopped) return;
    sweep().then(
      (n) => {
        if (n > 0) d.logger.info({ ended: n }, 'web sessions swept');
      },
      (err: unknown) => d.logger.error({ err }, 'web session sweep failed'),
    );
  }, d.intervalMs ?? SWEEP_INTERVAL_MS);
  timer.unref();
  return {
    sweep,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running?.catch(() => {});
    },
  };
}
