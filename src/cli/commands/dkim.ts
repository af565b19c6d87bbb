// `sealpost dkim generate DOMAIN | activate DOMAIN SELECTOR|GENERATION... [--force]
//  [--overlap 7d] | retire DOMAIN SELECTOR|GENERATION... [--overlap 7d] | list [DOMAIN]
//  | dns DOMAIN` — a domain's DKIM keys (delivery/dkim/manage.ts): a pair is generated
// pending, published in DNS, activated (checked against DNS through the configured
// resolver unless --force), and the pair it replaces keeps its records for the overlap.

import { SealpostError } from '../../core/errors.ts';
import {
  activateDkimKeys,
  DEFAULT_OVERLAP_MS,
  generateDkimKeys,
  mustPublish,
  requireHostedDomain,
  retireDkimKeys,
  txtValue,
  zoneLine,
} from '../../delivery/dkim/index.ts';
import { createDnsResolver } from '../../net/dns.ts';
import type { DkimKeyRecord } from '../../store/types.ts';
import { arg, type CommandContext, cliActor, emit, flagString, formatTime, withRuntime } from '../context.ts';

const USAGE =
  'usage: sealpost dkim generate DOMAIN | activate DOMAIN SELECTOR|GENERATION... [--force] [--overlap 7d] | retire DOMAIN SELECTOR|GENERATION... [--overlap 7d] | list [DOMAIN] | dns DOMAIN';

/** "7d", "36h", "0": the overlap in milliseconds (default 7 days). */
export function parseOverlap(value: string | undefined): number {
  if (value === undefined) return DEFAULT_OVERLAP_MS;
  const m = /^(\d{1,4})([dh]?)$/.exec(value);
  if (m === null || (m[2] === '' && m[1] !== '0')) {
    throw new SealpostError(
      'input.invalid',
      `--overlap ${JSON.stringify(value)}: use days or hours, e.g. 7d or 36h`,
    );
  }
  return Number(m[1]) * (m[2] === 'h' ? 3_600_000 : 86_400_000);
}

/** A key without its sealed private key, for --json output. */
const view = ({ sealedPrivateKey: _sealed, ...k }: DkimKeyRecord) => k;

function records(keys: readonly DkimKeyRecord[]) {
  return keys.map((k) => {
    const value = txtValue(k.algorithm, k.publicKey);
    return {
      name: `${k.selector}._domainkey.${k.domain}`,
      type: 'TXT',
      selector: k.selector,
      state: k.state,
      value,
      zone: zoneLine(k.selector, k.domain, value),
    };
  });
}

function row(k: DkimKeyRecord, now: number): string {
  const due =
    k.state === 'retiring' && k.retireAt !== null && k.retireAt <= now
      ? ' (overlap over: remove from DNS)'
      : '';
  return [
    k.domain.padEnd(24),
    k.selector.padEnd(14),
    k.algorithm.padEnd(8),
    `${k.state}${due}`.padEnd(10),
    `created ${formatTime(k.createdAt)}`,
    `active ${formatTime(k.activatedAt)}`,
    `retire ${formatTime(k.retireAt)}`,
  ].join('  ');
}

async function generate(ctx: CommandContext, domainArg: string): Promise<void> {
  await withRuntime(ctx, async (rt) => {
    const keys = await generateDkimKeys(rt, cliActor(), domainArg);
    const first = keys[0];
    const domain = first?.domain ?? domainArg;
    const generation = first?.generation ?? '';
    const recs = records(keys);
    emit(
      ctx,
      {
        domain,
        generation,
        keys: keys.map((k) => ({ selector: k.selector, algorithm: k.algorithm, state: k.state })),
        records: recs,
      },
      [
        `generated DKIM keys for ${domain}: ${keys.map((k) => `${k.selector} (${k.algorithm})`).join(', ')} — pending, not signing yet`,
        '',
        'Publish these DNS records:',
        ...recs.map((r) => r.zone),
        '',
        `Then, once they resolve: sealpost dkim activate ${domain} ${generation}`,
      ].join('\n'),
    );
  });
}

async function activate(ctx: CommandContext, domainArg: string, names: readonly string[]): Promise<void> {
  const overlapMs = parseOverlap(flagString(ctx, 'overlap'));
  const force = ctx.flags['force'] === true;
  await withRuntime(ctx, async (rt) => {
    const dns = rt.config.dns;
    const resolver = force
      ? null
      : createDnsResolver({ servers: [...dns.servers], timeoutMs: dns.timeout_ms });
    const a = await activateDkimKeys(rt, cliActor(), domainArg, names, { overlapMs, resolver });
    const domain = a.activated[0]?.domain ?? domainArg;
    const lines = [
      `${domain} now signs with ${a.activated.map((k) => `${k.selector} (${k.algorithm})`).join(' and ')}`,
    ];
    if (force) lines.push('DNS was not checked (--force)');
    if (a.retiring.length > 0) {
      lines.push(
        `retiring ${a.retiring.map((k) => k.selector).join(', ')}: no longer signing; keep their DNS records until ${formatTime(a.retireAt)} UTC, then \`sealpost dkim retire ${domain} ${a.retiring.map((k) => k.selector).join(' ')}\``,
      );
    }
    emit(
      ctx,
      { activated: a.activated.map(view), retiring: a.retiring.map(view), retireAt: a.retireAt },
      lines.join('\n'),
    );
  });
}

export async function dkimCommand(ctx: CommandContext): Promise<void> {
  const sub = ctx.args[0];
  const rest = { ...ctx, args: ctx.args.slice(1) };
  switch (sub) {
    case 'generate':
      return generate(ctx, arg(rest, 0, 'domain name'));
    case 'activate':
      return activate(ctx, arg(rest, 0, 'domain name'), [
        arg(rest, 1, 'selector or generation'),
        ...rest.args.slice(2),
      ]);
    case 'retire': {
      const domainArg = arg(rest, 0, 'domain name');
      const names = [arg(rest, 1, 'selector or generation'), ...rest.args.slice(2)];
      const overlapMs = parseOverlap(flagString(ctx, 'overlap'));
      return withRuntime(ctx, async (rt) => {
        const keys = await retireDkimKeys(rt, cliActor(), domainArg, names, { overlapMs });
        const text = keys.map((k) =>
          k.state === 'retiring'
            ? `${k.selector}: retiring, no longer signing; keep its DNS record until ${formatTime(k.retireAt)} UTC`
            : `${k.selector}: retired; its DNS record may be removed`,
        );
        emit(
          ctx,
          keys.map((k) => ({ domain: k.domain, selector: k.selector, state: k.state, retireAt: k.retireAt })),
          text.join('\n'),
        );
      });
    }
    case 'list':
      return withRuntime(ctx, async (rt) => {
        const domainArg = rest.args[0];
        const domain = domainArg === undefined ? undefined : await requireHostedDomain(rt.store, domainArg);
        const keys = await rt.store.listDkimKeys(domain);
        const now = Date.now();
        emit(
          ctx,
          keys.map(view),
          keys.length === 0
            ? `no DKIM keys${domain === undefined ? '' : ` for ${domain}`}. Fix: \`sealpost dkim generate ${domain ?? 'DOMAIN'}\``
            : keys.map((k) => row(k, now)).join('\n'),
        );
      });
    case 'dns':
      return withRuntime(ctx, async (rt) => {
        const domain = await requireHostedDomain(rt.store, arg(rest, 0, 'domain name'));
        const keys = mustPublish(await rt.store.listDkimKeys(domain), Date.now());
        const recs = records(keys);
        emit(
          ctx,
          recs,
          recs.length === 0
            ? `no DKIM keys to publish for ${domain}. Fix: \`sealpost dkim generate ${domain}\``
            : recs.map((r) => `; ${r.selector} (${r.state})\n${r.zone}`).join('\n'),
        );
      });
    default:
      throw new SealpostError('input.invalid', USAGE);
  }
}
