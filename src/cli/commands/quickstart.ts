// `sealpost quickstart DOMAIN [--no-dkim]`
// Everything a domain needs to send and receive here, in one step (issue 5 item 6):
// hosts the domain if it is not hosted yet, makes a DKIM key pair if it has none to
// publish (pending until `sealpost dkim activate`), then prints every DNS record as a
// zone file (delivery/publish.ts) and the steps that remain. Changes are audited by
// the functions that make them.

import { addDomain } from '../../admin/accounts.ts';
import { normaliseDomain } from '../../core/address.ts';
import { SealpostError } from '../../core/errors.ts';
import { generateDkimKeys, mustPublish, txtValue } from '../../delivery/dkim/index.ts';
import { domainRecords, zoneFile } from '../../delivery/publish.ts';
import { arg, type CommandContext, cliActor, emit, withRuntime } from '../context.ts';

export async function quickstartCommand(ctx: CommandContext): Promise<void> {
  const input = arg(ctx, 0, 'domain');
  const domain = normaliseDomain(input.trim());
  if (domain === null)
    throw new SealpostError('input.invalid', `${JSON.stringify(input)} is not a valid domain name`);
  return withRuntime(ctx, async (rt) => {
    const steps: string[] = [];
    if ((await rt.store.getDomain(domain)) === null) {
      await addDomain(rt, cliActor(), domain);
      steps.push(`Added ${domain} as a hosted domain.`);
    }
    const now = Date.now();
    let keys = mustPublish(await rt.store.listDkimKeys(domain), now);
    if (keys.length === 0 && ctx.flags['no-dkim'] !== true) {
      await generateDkimKeys(rt, cliActor(), domain, now);
      keys = mustPublish(await rt.store.listDkimKeys(domain), now);
      steps.push('Generated a DKIM key pair (Ed25519 and RSA-2048); it signs once activated.');
    }
    const records = domainRecords(
      rt.config,
      domain,
      keys.map((k) => [k.selector, txtValue(k.algorithm, k.publicKey)] as const),
    );
    const pending = keys.filter((k) => k.state === 'pending').map((k) => k.selector);
    const next = [
      `1. Publish these records in the ${domain} zone (and a PTR record for this server's address naming ${rt.config.hostname}).`,
      `2. Make the TLS certificate name ${rt.config.hostname}, mta-sts.${domain} and autoconfig.${domain}.`,
      ...(pending.length > 0
        ? [`3. Once the DKIM records resolve: sealpost dkim activate ${domain} ${pending.join(' ')}`]
        : []),
      `${pending.length > 0 ? 4 : 3}. MTA-STS starts in mode "${rt.config.mta_sts.mode}"; set [mta_sts] mode = "enforce" once TLS reports are clean.`,
    ];
    emit(
      ctx,
      { domain, records, steps, next },
      [
        ...steps,
        ...(steps.length > 0 ? [''] : []),
        zoneFile(records),
        '',
        'Next:',
        ...next.map((s) => `  ${s}`),
      ].join('\n'),
    );
  });
}
