// `sealpost alias add SOURCE DEST... | remove SOURCE | list [--domain D]`
// SOURCE is local@domain, or @domain for the domain's catch-all.

import { addAlias, removeAlias } from '../../admin/accounts.ts';
import { SealpostError } from '../../core/errors.ts';
import { arg, type CommandContext, cliActor, emit, flagString, withRuntime } from '../context.ts';

export async function aliasCommand(ctx: CommandContext): Promise<void> {
  const sub = ctx.args[0];
  const rest = { ...ctx, args: ctx.args.slice(1) };
  switch (sub) {
    case 'add':
      return withRuntime(ctx, async (rt) => {
        const alias = await addAlias(rt, cliActor(), arg(rest, 0, 'source address'), rest.args.slice(1));
        emit(ctx, alias, `alias ${alias.source} -> ${alias.destinations.join(', ')}`);
      });
    case 'remove':
      return withRuntime(ctx, async (rt) => {
        const source = arg(rest, 0, 'source address');
        await removeAlias(rt, cliActor(), source);
        emit(ctx, { removed: source }, `alias ${source} removed`);
      });
    case 'list':
      return withRuntime(ctx, async (rt) => {
        const aliases = await rt.store.listAliases(flagString(ctx, 'domain'));
        emit(
          ctx,
          aliases,
          aliases.length === 0
            ? 'no aliases'
            : aliases.map((a) => `${a.source} -> ${a.destinations.join(', ')}`).join('\n'),
        );
      });
    default:
      throw new SealpostError(
        'input.invalid',
        'usage: sealpost alias add SOURCE DEST... | remove SOURCE | list [--domain D]',
      );
  }
}
