// `sealpost queue list | show ID [--headers] | retry ID|--all | delete ID`
// The outbound queue for admins (issue 5 item 3). Entries are sealed under the master
// key; this command opens them, so every look at addresses or headers and every change
// is written to the audit log (DESIGN invariant 9). Message bodies are never printed.

import { SealpostError } from '../../core/errors.ts';
import { type OpenedMessage, OutboundQueue } from '../../delivery/queue.ts';
import { arg, type CommandContext, cliActor, emit, formatTime, withRuntime } from '../context.ts';

const USAGE = 'usage: sealpost queue list | show ID [--headers] | retry ID|--all | delete ID';

function view(m: OpenedMessage, size: number, headers: boolean) {
  const end = m.data.indexOf('\r\n\r\n');
  return {
    id: m.id,
    kind: m.kind,
    createdAt: m.createdAt,
    size,
    mailFrom: m.envelope.mailFrom,
    smtputf8: m.envelope.utf8,
    eightBit: m.envelope.eightBit,
    recipients: m.recipients.map((r) => ({
      address: r.address,
      domain: r.domain,
      state: r.row.state,
      attempts: r.row.attempts,
      nextAttemptAt: r.row.nextAttemptAt,
      lastAttemptAt: r.row.lastAttemptAt,
      lastStatus: r.status,
    })),
    ...(headers ? { headers: m.data.subarray(0, end < 0 ? m.data.length : end).toString('utf8') } : {}),
  };
}

export async function queueCommand(ctx: CommandContext): Promise<void> {
  const sub = ctx.args[0];
  const rest = { ...ctx, args: ctx.args.slice(1) };
  switch (sub) {
    case 'list':
      return withRuntime(ctx, async (rt) => {
        const q = new OutboundQueue(rt.store, rt.keys);
        const messages = (await rt.store.listQueue(1000)).map((m) => view(q.open(m), m.size, false));
        await rt.audit.append({
          actor: cliActor(),
          action: 'queue.list',
          target: '*',
          detail: { count: messages.length },
        });
        const lines = messages.map((m) => {
          const waiting = m.recipients.filter((r) => r.state === 'queued');
          const next = Math.min(...waiting.map((r) => r.nextAttemptAt));
          return `${m.id}  ${formatTime(m.createdAt)}  ${String(m.size).padStart(9)}  <${m.mailFrom}>  ${waiting.length}/${m.recipients.length} waiting, next ${formatTime(Number.isFinite(next) ? next : null)}`;
        });
        emit(ctx, messages, lines.length === 0 ? 'the queue is empty' : lines.join('\n'));
      });
    case 'show':
      return withRuntime(ctx, async (rt) => {
        const id = arg(rest, 0, 'queue id');
        const stored = await rt.store.getQueuedMessage(id);
        if (stored === null) throw new SealpostError('input.invalid', `no queued message ${id}`);
        const headers = ctx.flags['headers'] === true;
        const v = view(new OutboundQueue(rt.store, rt.keys).open(stored), stored.size, headers);
        await rt.audit.append({ actor: cliActor(), action: 'queue.show', target: id, detail: { headers } });
        const text = [
          `${v.id}  ${v.kind}  ${v.size} bytes  queued ${formatTime(v.createdAt)}`,
          `  from <${v.mailFrom}>${v.smtputf8 ? ' (SMTPUTF8)' : ''}`,
          ...v.recipients.map(
            (r) =>
              `  to <${r.address}>  ${r.state}, ${r.attempts} attempt(s), next ${r.state === 'queued' ? formatTime(r.nextAttemptAt) : '-'}` +
              (r.lastStatus
                ? `\n      last: ${r.lastStatus.code} ${r.lastStatus.enhanced} ${r.lastStatus.text}`
                : ''),
          ),
          ...(v.headers ? ['', v.headers] : []),
        ].join('\n');
        emit(ctx, v, text);
      });
    case 'retry':
      return withRuntime(ctx, async (rt) => {
        const ids =
          ctx.flags['all'] === true
            ? (await rt.store.listQueue(100_000)).map((m) => m.id)
            : [arg(rest, 0, 'queue id (or --all)')];
        let found = 0;
        for (const id of ids) if (await rt.store.retryQueued(id, Date.now())) found++;
        if (found === 0 && ctx.flags['all'] !== true)
          throw new SealpostError('input.invalid', `no queued message ${ids[0]}`);
        await rt.audit.append({
          actor: cliActor(),
          action: 'queue.retry',
          target: ctx.flags['all'] === true ? '*' : ids[0]!,
          detail: { count: found },
        });
        emit(
          ctx,
          { retried: found },
          `${found} message(s) due now; a running delivery role picks them up within a second`,
        );
      });
    case 'delete':
      return withRuntime(ctx, async (rt) => {
        const id = arg(rest, 0, 'queue id');
        if (!(await rt.store.deleteQueued(id)))
          throw new SealpostError('input.invalid', `no queued message ${id}`);
        await rt.audit.append({ actor: cliActor(), action: 'queue.delete', target: id, detail: {} });
        emit(ctx, { deleted: id }, `deleted ${id} (no notice is sent to the sender)`);
      });
    default:
      throw new SealpostError('input.invalid', USAGE);
  }
}
