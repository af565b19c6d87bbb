// `sealpost keys rotate`: a new master key version; every account key re-wrapped.

import { rotateMasterKey } from '../../admin/keys.ts';
import { SealpostError } from '../../core/errors.ts';
import { type CommandContext, cliActor, emit, withRuntime } from '../context.ts';

export async function keysCommand(ctx: CommandContext): Promise<void> {
  if (ctx.args[0] !== 'rotate') throw new SealpostError('input.invalid', 'usage: sealpost keys rotate');
  return withRuntime(ctx, async (rt) => {
    const r = await rotateMasterKey(rt, cliActor(), ctx.io.env);
    emit(
      ctx,
      r,
      `master key rotated to version ${r.version}; ${r.accounts} account keys re-wrapped (message data untouched)`,
    );
  });
}
