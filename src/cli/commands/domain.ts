// `sealpost domain add|list|remove NAME`

import { addDomain, removeDomain } from '../../admin/accounts.ts';
import { SealpostError } from '../../core/errors.ts';
import { arg, type CommandContext, cliActor, emit, withRuntime } from '../context.ts';

export async function domainCommand(ctx: CommandContext): Promise<void> {
  const sub = ctx.args[0];
  const rest = { ...ctx, args: ctx.args.slice(1) };
  switch (sub) {
    case 'add':
      return withRuntime(ctx, async (rt) => {
        const d = await addDomain(rt, cliActor(), arg(rest, 0, 'domain name'));
        emit(ctx, d, `domain ${d.name} added`);
      });
    case 'remove':
      return withRuntime(ctx, async (rt) => {
        const name = arg(rest, 0, 'domain name');
        await removeDomain(rt, cliActor(), name);
        emit(ctx, { removed: name }, `domain ${name} removed`);
      });
    case 'list':
      return withRuntime(ctx, async (rt) => {
        const domains = await rt.store.listDomains();
        const accounts = await rt.store.listAccounts();
        const rows = domains.map((d) => ({
          name: d.name,
          users: accounts.filter((a) => a.domainId === d.id).length,
          createdAt: new Date(d.createdAt).toISOString(),
        }));
        emit(
          ctx,
          rows,
          rows.length === 0 ? 'no domains' : rows.map((r) => `${r.name}\t${r.users} users`).join('\n'),
        );
      });
    default:
      throw new SealpostError('input.invalid', 'usage: sealpost domain add|list|remove NAME');
  }
}
