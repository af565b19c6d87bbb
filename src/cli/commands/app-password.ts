// `sealpost app-password add ADDRESS --name NAME --scopes imap,pop3,smtp
//      [--expires 90d|2027-01-31] [--networks 192.0.2.0/24,2001:db8::/32]
//  | list ADDRESS | revoke ADDRESS ID`
// An app password is what a mail client logs in with once the account has a second
// factor (issue 4); it is printed once and stored only as a keyed hash.

import { addAppPassword, listAppPasswords, revokeAppPassword } from '../../admin/app-passwords.ts';
import { SealpostError } from '../../core/errors.ts';
import { arg, type CommandContext, cliActor, emit, flagString, formatTime, withRuntime } from '../context.ts';

const USAGE =
  'usage: sealpost app-password add ADDRESS --name NAME --scopes imap,pop3,smtp [--expires 90d|YYYY-MM-DD] [--networks CIDR,...] | list ADDRESS | revoke ADDRESS ID';

/** "90d", "12h" or a date: milliseconds since the epoch; null when absent. */
export function parseExpiry(value: string | undefined, now: number): number | null {
  if (value === undefined) return null;
  const rel = /^(\d{1,5})([dh])$/.exec(value);
  if (rel) return now + Number(rel[1]) * (rel[2] === 'd' ? 86_400_000 : 3_600_000);
  const at = /^\d{4}-\d{2}-\d{2}(T[\d:.]+Z?)?$/.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(at)) {
    throw new SealpostError(
      'input.invalid',
      `--expires ${JSON.stringify(value)}: use a number of days or hours (90d, 12h) or a date (2027-01-31)`,
    );
  }
  return at;
}

const list = (s: string | undefined) =>
  s === undefined
    ? []
    : s
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x !== '');

export async function appPasswordCommand(ctx: CommandContext): Promise<void> {
  const sub = ctx.args[0];
  const rest = { ...ctx, args: ctx.args.slice(1) };
  switch (sub) {
    case 'add':
      return withRuntime(ctx, async (rt) => {
        const now = Date.now();
        const networks = list(flagString(ctx, 'networks'));
        const { record, password } = await addAppPassword(
          rt,
          cliActor(),
          {
            address: arg(rest, 0, 'address'),
            name: flagString(ctx, 'name') ?? '',
            scopes: list(flagString(ctx, 'scopes')),
            expiresAt: parseExpiry(flagString(ctx, 'expires'), now),
            allowedNetworks: networks.length === 0 ? null : networks,
          },
          now,
        );
        emit(
          ctx,
          { id: record.id, name: record.name, scopes: record.scopes, expiresAt: record.expiresAt, password },
          [
            `app password "${record.name}" (${record.scopes.join(', ')}) for ${arg(rest, 0, 'address')}:`,
            `  ${password}`,
            'Shown once: enter it as the password in the mail client.',
          ].join('\n'),
        );
      });
    case 'list':
      return withRuntime(ctx, async (rt) => {
        const records = await listAppPasswords(rt, arg(rest, 0, 'address'));
        const shown = records.map(({ secretHash: _hidden, ...r }) => r);
        emit(
          ctx,
          shown,
          shown.length === 0
            ? 'no app passwords'
            : shown
                .map((r) =>
                  [
                    r.id,
                    JSON.stringify(r.name),
                    r.scopes.join(','),
                    `created ${formatTime(r.createdAt)}`,
                    `last used ${formatTime(r.lastUsedAt)}${r.lastUsedAddress ? ` from ${r.lastUsedAddress}` : ''}`,
                    r.expiresAt === null ? 'no expiry' : `expires ${formatTime(r.expiresAt)}`,
                    r.revokedAt === null ? '' : `REVOKED ${formatTime(r.revokedAt)}`,
                  ]
                    .filter((x) => x !== '')
                    .join('  '),
                )
                .join('\n'),
        );
      });
    case 'revoke':
      return withRuntime(ctx, async (rt) => {
        const address = arg(rest, 0, 'address');
        const id = arg(rest, 1, 'app password id');
        await revokeAppPassword(rt, cliActor(), address, id);
        emit(ctx, { revoked: id }, `app password ${id} of ${address} revoked`);
      });
    default:
      throw new SealpostError('input.invalid', USAGE);
  }
}
