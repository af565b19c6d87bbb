// `sealpost audit verify | list [--from SEQ] [--limit N]`

import { SealpostError } from '../../core/errors.ts';
import { type CommandContext, emit, flagString, withRuntime } from '../context.ts';

export async function auditCommand(ctx: CommandContext): Promise<void> {
  switch (ctx.args[0]) {
    case 'verify':
      return withRuntime(ctx, async (rt) => {
        const r = await rt.audit.verify();
        if (!r.ok) {
          throw new SealpostError(
            'audit.broken-chain',
            `audit log is NOT intact: ${r.problem} (entry ${r.seq})`,
            {
              seq: r.seq,
            },
          );
        }
        emit(ctx, r, `audit log intact: ${r.entries} entries, head ${r.headHash.slice(0, 16)}…`);
      });
    case 'list':
      return withRuntime(ctx, async (rt) => {
        const from = Number(flagString(ctx, 'from') ?? 1);
        const limit = Number(flagString(ctx, 'limit') ?? 100);
        const rows = await rt.store.listAudit(from, limit);
        emit(
          ctx,
          rows,
          rows
            .map(
              (r) =>
                `${r.seq}\t${new Date(r.at).toISOString()}\t${r.actor}\t${r.action}\t${r.target}\t${r.detail}`,
            )
            .join('\n') || 'no entries',
        );
      });
    default:
      throw new SealpostError(
        'input.invalid',
        'usage: sealpost audit verify | list [--from SEQ] [--limit N]',
      );
  }
}
