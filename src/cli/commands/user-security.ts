// `sealpost user sessions ADDRESS [revoke ID | revoke-all]`
// `sealpost user factors ADDRESS [remove ID]`
// `sealpost user security-log ADDRESS [--limit N]`
// The administrator's view of an account's identity (issue 4 item 6: "the same
// operations in the CLI for admins"): its web sessions, its second factors and its
// security log, and the admin's remedies — ending sessions, and removing a factor
// (a 2FA reset for a user who lost their phone).
//
// Invariants:
// - Every change is written to the audit log (actor cli:<unix user>) and to the
//   owner's security log (protocol 'cli'); listings change nothing.
// - Removing a factor ends every web session of the account, as the owner's own
//   removal ends their other sessions (web/factor-routes.ts).
// - Nothing secret is shown: sessions by their public id (never the cookie or its
//   hash), factors without secrets, hashes, public keys or credential ids.
// - An unknown user, session or factor is 'store.not-found' (exit 1); a bad action
//   or --limit is 'input.invalid' (exit 2), and nothing changes.

import { requireAccount } from '../../admin/accounts.ts';
import type { Runtime } from '../../app/runtime.ts';
import { SealpostError } from '../../core/errors.ts';
import type { Account, AuthFactor, SecurityEvent, WebSession } from '../../store/types.ts';
import { publicSessionId, sessionKey, sessionTimeout } from '../../web/session-policy.ts';
import { arg, type CommandContext, cliActor, emit, flagString, formatTime, withRuntime } from '../context.ts';

export const SECURITY_USAGE =
  'sealpost user sessions ADDRESS [revoke ID | revoke-all] | factors ADDRESS [remove ID] | security-log ADDRESS [--limit N]';

const DEFAULT_LOG_LIMIT = 50;
const MAX_LOG_LIMIT = 1000;

/** The owner's security log entry for an admin change. */
function securityEvent(account: Account, kind: string, factor: string | null, detail: string): SecurityEvent {
  return {
    accountId: account.id,
    at: Date.now(),
    kind,
    protocol: 'cli',
    address: null,
    client: null,
    success: true,
    factor,
    detail,
  };
}

function sessionView(rt: Runtime, s: WebSession, now: number) {
  const policy = {
    idleMs: rt.config.web.session_idle_minutes * 60_000,
    absoluteMs: rt.config.web.session_absolute_hours * 3_600_000,
  };
  const timedOut = sessionTimeout(s, now, { ...policy, binding: rt.config.web.binding });
  return {
    id: publicSessionId(sessionKey(rt.keys), s.idHash),
    state: timedOut !== null ? 'timed-out' : s.pending ? 'pending' : 'active',
    secondFactor: s.secondFactor,
    createdAt: s.createdAt,
    lastSeenAt: s.lastSeenAt,
    expiresAt: s.expiresAt,
    address: s.address,
    userAgent: s.userAgent,
  };
}

function factorView(f: AuthFactor) {
  return {
    id: f.id,
    kind: f.kind,
    name: f.name,
    createdAt: f.createdAt,
    lastUsedAt: f.lastUsedAt,
    ...(f.kind === 'recovery' ? { remaining: f.codeHashes?.length ?? 0 } : {}),
  };
}

async function sessions(ctx: CommandContext, rest: CommandContext): Promise<void> {
  const action = rest.args[1];
  if (action !== undefined && action !== 'revoke' && action !== 'revoke-all') {
    throw new SealpostError(
      'input.invalid',
      `unknown sessions action ${JSON.stringify(action)}; usage: ${SECURITY_USAGE}`,
    );
  }
  return withRuntime(ctx, async (rt) => {
    const account = await requireAccount(rt, arg(rest, 0, 'address'));
    const all = await rt.store.listWebSessions(account.id);
    const now = Date.now();
    if (action === undefined) {
      const rows = all.map((s) => sessionView(rt, s, now));
      emit(
        ctx,
        rows,
        rows.length === 0
          ? `no web sessions for ${account.address}`
          : rows
              .map((r) =>
                [
                  r.id,
                  r.state,
                  `from ${r.address}`,
                  `created ${formatTime(r.createdAt)}`,
                  `last seen ${formatTime(r.lastSeenAt)}`,
                  JSON.stringify(r.userAgent),
                ].join('  '),
              )
              .join('\n'),
      );
      return;
    }
    if (action === 'revoke-all') {
      const ended = await rt.store.deleteWebSessions(account.id);
      await rt.audit.append({
        actor: cliActor(),
        action: 'user.sessions.revoke-all',
        target: account.address,
        detail: { ended },
      });
      await rt.store.appendSecurityEvent(
        securityEvent(account, 'web-sessions-revoked', null, `${ended} ended by an administrator`),
      );
      emit(ctx, { address: account.address, ended }, `${ended} web session(s) of ${account.address} ended`);
      return;
    }
    const id = arg(rest, 2, 'session id');
    const key = sessionKey(rt.keys);
    const target = all.find((s) => publicSessionId(key, s.idHash) === id);
    if (target === undefined)
      throw new SealpostError('store.not-found', `no web session ${id} for ${account.address}`);
    await rt.store.deleteWebSession(target.idHash);
    await rt.audit.append({
      actor: cliActor(),
      action: 'user.sessions.revoke',
      target: account.address,
      detail: { id },
    });
    await rt.store.appendSecurityEvent(
      securityEvent(account, 'web-session-revoked', null, `${id} ended by an administrator`),
    );
    emit(ctx, { address: account.address, revoked: id }, `web session ${id} of ${account.address} ended`);
  });
}

async function factors(ctx: CommandContext, rest: CommandContext): Promise<void> {
  const action = rest.args[1];
  if (action !== undefined && action !== 'remove') {
    throw new SealpostError(
      'input.invalid',
      `unknown factors action ${JSON.stringify(action)}; usage: ${SECURITY_USAGE}`,
    );
  }
  return withRuntime(ctx, async (rt) => {
    const account = await requireAccount(rt, arg(rest, 0, 'address'));
    const all = await rt.store.listFactors(account.id);
    if (action === undefined) {
      const rows = all.map(factorView);
      emit(
        ctx,
        rows,
        rows.length === 0
          ? `no second factors for ${account.address}`
          : rows
              .map((r) =>
                [
                  r.id,
                  r.kind,
                  JSON.stringify(r.name),
                  `created ${formatTime(r.createdAt)}`,
                  `last used ${formatTime(r.lastUsedAt)}`,
                  r.remaining === undefined ? '' : `${r.remaining} codes left`,
                ]
                  .filter((x) => x !== '')
                  .join('  '),
              )
              .join('\n'),
      );
      return;
    }
    const id = arg(rest, 2, 'factor id');
    const target = all.find((f) => f.id === id);
    if (target === undefined)
      throw new SealpostError('store.not-found', `no second factor ${id} for ${account.address}`);
    await rt.store.removeFactor(account.id, id);
    const ended = await rt.store.deleteWebSessions(account.id);
    await rt.audit.append({
      actor: cliActor(),
      action: 'user.factor.remove',
      target: account.address,
      detail: { id, kind: target.kind, sessionsEnded: ended },
    });
    await rt.store.appendSecurityEvent(
      securityEvent(account, 'factor-removed', target.kind, 'removed by an administrator'),
    );
    const left = all.filter((f) => f.id !== id && (f.kind === 'totp' || f.kind === 'webauthn')).length;
    emit(
      ctx,
      {
        address: account.address,
        removed: id,
        kind: target.kind,
        sessionsEnded: ended,
        secondFactorsLeft: left,
      },
      `${target.kind} factor ${JSON.stringify(target.name)} of ${account.address} removed; ${ended} web session(s) ended` +
        (left === 0 ? `\n${account.address} now logs in with the password alone` : ''),
    );
  });
}

function limitOf(ctx: CommandContext): number {
  const raw = flagString(ctx, 'limit');
  if (raw === undefined) return DEFAULT_LOG_LIMIT;
  const n = /^\d{1,7}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(n >= 1 && n <= MAX_LOG_LIMIT)) {
    throw new SealpostError(
      'input.invalid',
      `--limit ${JSON.stringify(raw)}: use a number from 1 to ${MAX_LOG_LIMIT}`,
    );
  }
  return n;
}

async function securityLog(ctx: CommandContext, rest: CommandContext): Promise<void> {
  const limit = limitOf(ctx);
  return withRuntime(ctx, async (rt) => {
    const account = await requireAccount(rt, arg(rest, 0, 'address'));
    const events = await rt.store.listSecurityEvents(account.id, limit);
    emit(
      ctx,
      events,
      events.length === 0
        ? `no security events for ${account.address}`
        : events
            .map((e) =>
              [
                formatTime(e.at),
                e.kind,
                e.success ? 'ok' : 'FAILED',
                e.protocol ?? '-',
                e.address ?? '-',
                e.factor ?? '',
                e.detail === null ? '' : JSON.stringify(e.detail),
              ]
                .filter((x) => x !== '')
                .join('  '),
            )
            .join('\n'),
    );
  });
}

/** Dispatch for user.ts: true when `sub` was one of these commands. */
export async function userSecurityCommand(
  ctx: CommandContext,
  sub: string | undefined,
  rest: CommandContext,
): Promise<boolean> {
  switch (sub) {
    case 'sessions':
      await sessions(ctx, rest);
      return true;
    case 'factors':
      await factors(ctx, rest);
      return true;
    case 'security-log':
      await securityLog(ctx, rest);
      return true;
    default:
      return false;
  }
}
