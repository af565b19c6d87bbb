// `sealpost sending status ADDRESS | resume ADDRESS | suspend ADDRESS --reason TEXT`
// The abuse guard for admins (issue 5 item 7): an account's sending counters, its
// baseline and any suspension; lifting a suspension (its held mail goes out at the
// delivery role's next pass) and suspending by hand (the owner and the admin are told
// as for an automatic one). Every use is written to the audit log (DESIGN invariant
// 9): status reads a user's activity, resume and suspend change it.

import type { Runtime } from '../../app/runtime.ts';
import { SealpostError } from '../../core/errors.ts';
import { AbuseGuard, type SendingStatus } from '../../delivery/abuse-guard.ts';
import { OutboundQueue } from '../../delivery/queue.ts';
import type { Account } from '../../store/types.ts';
import { arg, type CommandContext, cliActor, emit, flagString, formatTime, withRuntime } from '../context.ts';

const USAGE = 'usage: sealpost sending status ADDRESS | resume ADDRESS | suspend ADDRESS --reason TEXT';

const n = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(1));

function guardOf(rt: Runtime): AbuseGuard {
  return new AbuseGuard({
    config: rt.config,
    store: rt.store,
    keys: rt.keys,
    queue: new OutboundQueue(rt.store, rt.keys),
    audit: rt.audit,
    logger: rt.logger,
  });
}

async function accountOf(rt: Runtime, address: string): Promise<Account> {
  const account = await rt.store.getAccountByAddress(address.toLowerCase());
  if (account === null) throw new SealpostError('store.not-found', `no account ${address}`);
  return account;
}

function statusText(s: SendingStatus): string {
  const w = (c: SendingStatus['lastHour']) =>
    `${n(c.messages)} messages, ${n(c.recipients)} recipients (${n(c.newRecipients)} new), ${n(c.bounces)} bounces`;
  const sus = s.suspension;
  const state =
    sus === null || sus.liftedAt !== null
      ? 'sending: allowed'
      : `sending: SUSPENDED since ${formatTime(sus.suspendedAt)} by ${sus.suspendedBy} (${sus.reason}${sus.detail ? `: ${sus.detail}` : ''})`;
  const lifted =
    sus !== null && sus.liftedAt !== null
      ? [
          `last suspension: ${formatTime(sus.suspendedAt)} (${sus.reason}), lifted ${formatTime(sus.liftedAt)} by ${sus.liftedBy}`,
        ]
      : [];
  return [
    `${s.account}`,
    state,
    ...lifted,
    `last hour: ${w(s.lastHour)}`,
    `last day:  ${w(s.lastDay)}`,
    `baseline: ${n(s.baseline)} recipients per active hour; suspended above ${n(s.spikeThreshold)} in an hour`,
    `limits: ${s.limits.messages_per_hour}/hour and ${s.limits.messages_per_day}/day messages, ${s.limits.new_recipients_per_hour}/hour and ${s.limits.new_recipients_per_day}/day new recipients${s.enabled ? '' : ' (guard disabled)'}`,
  ].join('\n');
}

export async function sendingCommand(ctx: CommandContext): Promise<void> {
  const sub = ctx.args[0];
  const address = sub === undefined ? '' : arg({ ...ctx, args: ctx.args.slice(1) }, 0, 'ADDRESS');
  switch (sub) {
    case 'status':
      return withRuntime(ctx, async (rt) => {
        const account = await accountOf(rt, address);
        const status = await guardOf(rt).status(account);
        await rt.audit.append({ actor: cliActor(), action: 'sending.status', target: account.address });
        emit(ctx, status, statusText(status));
      });
    case 'resume':
      return withRuntime(ctx, async (rt) => {
        const account = await accountOf(rt, address);
        const lifted = await guardOf(rt).resume(account, cliActor());
        emit(
          ctx,
          { account: account.address, resumed: lifted },
          lifted
            ? `sending resumed for ${account.address}; its held mail goes out at the next delivery pass`
            : `${account.address} was not suspended`,
        );
      });
    case 'suspend':
      return withRuntime(ctx, async (rt) => {
        const reason = flagString(ctx, 'reason');
        if (reason === undefined || reason.trim() === '')
          throw new SealpostError('input.invalid', `--reason is required\n${USAGE}`);
        const account = await accountOf(rt, address);
        const done = await guardOf(rt).suspend(account, 'admin', reason.trim().slice(0, 300), cliActor());
        emit(
          ctx,
          { account: account.address, suspended: done },
          done
            ? `sending suspended for ${account.address}; the owner is told, and the admin when there is one`
            : `${account.address} was already suspended`,
        );
      });
    default:
      throw new SealpostError('input.invalid', USAGE);
  }
}
