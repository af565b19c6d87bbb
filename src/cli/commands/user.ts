// `sealpost user add|list|passwd|disable|enable|quota|delete ADDRESS`, and the
// identity commands of user-security.ts: sessions, factors, security-log.

import { addAccount, deleteAccount, setDisabled, setPassword, setQuota } from '../../admin/accounts.ts';
import { parseSize } from '../../config/index.ts';
import { SealpostError } from '../../core/errors.ts';
import type { Account } from '../../store/types.ts';
import { arg, type CommandContext, cliActor, emit, flagString, withRuntime } from '../context.ts';
import { generatePassword, readNewPassword } from '../password-input.ts';
import { SECURITY_USAGE, userSecurityCommand } from './user-security.ts';

const USAGE = `usage: sealpost user add ADDRESS [--generate] [--quota SIZE] | list [--domain D] | passwd ADDRESS [--generate] | disable ADDRESS | enable ADDRESS | quota ADDRESS SIZE | delete ADDRESS --yes | ${SECURITY_USAGE.replace('sealpost user ', '')}`;

function view(a: Account) {
  return {
    address: a.address,
    disabled: a.disabled,
    quotaBytes: a.quotaBytes,
    usedBytes: a.usedBytes,
    createdAt: new Date(a.createdAt).toISOString(),
  };
}

function sizeArg(value: string): number {
  const n = parseSize(value);
  if (n === null)
    throw new SealpostError(
      'input.invalid',
      `${JSON.stringify(value)} is not a size (try 0, "500MiB" or "10GiB")`,
    );
  return n;
}

async function newPassword(ctx: CommandContext): Promise<{ password: string; generated: boolean }> {
  if (ctx.flags['generate'] === true) return { password: generatePassword(), generated: true };
  return { password: await readNewPassword(ctx.io), generated: false };
}

export async function userCommand(ctx: CommandContext): Promise<void> {
  const sub = ctx.args[0];
  const rest = { ...ctx, args: ctx.args.slice(1) };
  const actor = cliActor();
  if (await userSecurityCommand(ctx, sub, rest)) return;
  switch (sub) {
    case 'add':
      return withRuntime(ctx, async (rt) => {
        const address = arg(rest, 0, 'address');
        const quota = flagString(ctx, 'quota');
        const { password, generated } = await newPassword(ctx);
        const a = await addAccount(rt, actor, {
          address,
          password,
          ...(quota !== undefined ? { quotaBytes: sizeArg(quota) } : {}),
        });
        emit(
          ctx,
          { ...view(a), ...(generated ? { password } : {}) },
          `user ${a.address} added${generated ? `\npassword: ${password}\n(shown once; store it now)` : ''}`,
        );
      });
    case 'list':
      return withRuntime(ctx, async (rt) => {
        const accounts = await rt.store.listAccounts(flagString(ctx, 'domain'));
        const rows = accounts.map(view);
        emit(
          ctx,
          rows,
          rows.length === 0
            ? 'no users'
            : rows
                .map((r) => `${r.address}${r.disabled ? '\t(disabled)' : ''}\t${r.usedBytes} bytes used`)
                .join('\n'),
        );
      });
    case 'passwd':
      return withRuntime(ctx, async (rt) => {
        const address = arg(rest, 0, 'address');
        const { password, generated } = await newPassword(ctx);
        await setPassword(rt, actor, address, password);
        emit(
          ctx,
          { address, ...(generated ? { password } : {}) },
          `password of ${address} changed${generated ? `\npassword: ${password}` : ''}`,
        );
      });
    case 'disable':
    case 'enable':
      return withRuntime(ctx, async (rt) => {
        const address = arg(rest, 0, 'address');
        await setDisabled(rt, actor, address, sub === 'disable');
        emit(ctx, { address, disabled: sub === 'disable' }, `user ${address} ${sub}d`);
      });
    case 'quota':
      return withRuntime(ctx, async (rt) => {
        const address = arg(rest, 0, 'address');
        const bytes = sizeArg(arg(rest, 1, 'size'));
        await setQuota(rt, actor, address, bytes);
        emit(
          ctx,
          { address, quotaBytes: bytes },
          `quota of ${address} set to ${bytes === 0 ? 'unlimited' : `${bytes} bytes`}`,
        );
      });
    case 'delete':
      return withRuntime(ctx, async (rt) => {
        const address = arg(rest, 0, 'address');
        if (ctx.flags['yes'] !== true) {
          throw new SealpostError(
            'input.invalid',
            `deleting ${address} removes all its mail for good; add --yes to confirm`,
          );
        }
        const messages = await deleteAccount(rt, actor, address);
        emit(ctx, { deleted: address, messages }, `user ${address} deleted with ${messages} messages`);
      });
    default:
      throw new SealpostError('input.invalid', USAGE);
  }
}
