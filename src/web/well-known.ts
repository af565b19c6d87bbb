// Documents the web role serves for hosted domains, chosen by the Host the client
// asked for (the DNS records of delivery/publish.ts point these names here):
// - https://mta-sts.DOMAIN/.well-known/mta-sts.txt: the MTA-STS policy (RFC 8461
//   §3.3: text/plain, over HTTPS with a certificate valid for that name; no redirects);
// - https://autoconfig.DOMAIN/mail/config-v1.1.xml (and the .well-known form on any
//   host): mail client autoconfiguration.
// A name that is not a hosted domain's gets 404, so the server never vouches for
// domains it does not host.

import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/index.ts';
import { normaliseDomain } from '../core/address.ts';
import { autoconfigXml, mtaStsPolicy } from '../delivery/publish.ts';
import type { Store } from '../store/types.ts';

export interface WellKnownDeps {
  readonly config: Config;
  readonly store: Store;
}

/** The hosted domain under `prefix.` of this host name, or null. */
async function hostedUnder(store: Store, hostname: string, prefix: string): Promise<string | null> {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  if (!host.startsWith(`${prefix}.`)) return null;
  const domain = normaliseDomain(host.slice(prefix.length + 1));
  if (domain === null || (await store.getDomain(domain)) === null) return null;
  return domain;
}

const notFound = { error: 'not-found', message: 'no such endpoint' };

export function registerWellKnown(app: FastifyInstance, d: WellKnownDeps): void {
  app.get('/.well-known/mta-sts.txt', async (request, reply) => {
    if ((await hostedUnder(d.store, request.hostname, 'mta-sts')) === null)
      return reply.status(404).send(notFound);
    return reply
      .header('content-type', 'text/plain; charset=utf-8')
      .header('cache-control', 'max-age=3600')
      .send(mtaStsPolicy(d.config));
  });

  const autoconfig = async (
    request: { hostname: string; query: unknown },
    reply: import('fastify').FastifyReply,
  ) => {
    const q = request.query as { emailaddress?: unknown };
    const fromQuery =
      typeof q.emailaddress === 'string' && q.emailaddress.includes('@')
        ? normaliseDomain(q.emailaddress.slice(q.emailaddress.lastIndexOf('@') + 1))
        : null;
    const domain =
      (await hostedUnder(d.store, request.hostname, 'autoconfig')) ??
      (fromQuery !== null && (await d.store.getDomain(fromQuery)) !== null ? fromQuery : null);
    if (domain === null) return reply.status(404).send(notFound);
    return reply
      .header('content-type', 'application/xml; charset=utf-8')
      .send(autoconfigXml(d.config, domain));
  };
  app.get('/mail/config-v1.1.xml', autoconfig);
  app.get('/.well-known/autoconfig/mail/config-v1.1.xml', autoconfig);
}
