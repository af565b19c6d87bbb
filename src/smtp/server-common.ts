// What the MX and submission listeners share on top of smtp-server: the per-address
// connection gate, the error path (a reply we meant, or 451 with an incident id for
// anything else), and the base options of every SMTPServer we create (the one TLS
// policy, our certificate with SNI, limits, no reverse lookups, no logging).

import type { SMTPServerOptions, SMTPServerSession } from 'smtp-server';
import { incidentId } from '../core/errors.ts';
import type { Logger } from '../log/logger.ts';
import { ConnectionLimiter } from '../net/connection-limits.ts';
import type { CertificateSource } from '../tls/certificates.ts';
import { tlsPolicyOptions } from '../tls/policy.ts';
import { REPLIES, SmtpReply } from './replies.ts';

export type Callback = (err?: Error | null) => void;

export interface ListenerLimits {
  readonly max_connections: number;
  readonly max_connections_per_address: number;
  readonly max_message_size: number;
  readonly max_line_length: number;
  readonly socket_timeout_seconds: number;
}

/** Per-address and total connection limits for one listener's onConnect/onClose. */
export function connectionGate(limits: ListenerLimits) {
  const limiter = new ConnectionLimiter({
    maxPerAddress: limits.max_connections_per_address,
    maxTotal: limits.max_connections,
  });
  const counted = new Set<string>(); // session ids holding a slot
  return {
    /** smtp-server's onConnect: 421 4.7.0 over the limit. */
    admit(session: SMTPServerSession, cb: Callback): void {
      if (!limiter.tryAcquire(session.remoteAddress)) {
        cb(REPLIES.tooManyConnections());
        return;
      }
      counted.add(session.id);
      cb();
    },
    /** From onClose: give the slot back (once). */
    release(session: SMTPServerSession): void {
      if (counted.delete(session.id)) limiter.release(session.remoteAddress);
    },
  };
}

/** A handler's failure as the client sees it: our reply as meant, else 451 4.3.0 with an incident id. */
export function failWith(logger: Logger, what: string) {
  return (session: SMTPServerSession, e: unknown, cb: Callback): void => {
    if (e instanceof SmtpReply) {
      cb(e);
      return;
    }
    const incident = incidentId();
    logger.error({ err: e, session: session.id, incident }, `${what}: unexpected error`);
    cb(REPLIES.temporaryFailure(incident));
  };
}

/** Options every SMTPServer of ours starts from. */
export function baseServerOptions(
  hostname: string,
  certificates: CertificateSource,
  limits: ListenerLimits,
): Partial<SMTPServerOptions> {
  const cert = certificates.current();
  return {
    ...tlsPolicyOptions(),
    key: cert.keyPem,
    cert: cert.certPem,
    SNICallback: certificates.SNICallback(),
    name: hostname,
    hideENHANCEDSTATUSCODES: false,
    hideDSN: true,
    hideREQUIRETLS: true,
    disableReverseLookup: true,
    size: limits.max_message_size,
    maxClients: limits.max_connections,
    maxCommandLength: limits.max_line_length,
    socketTimeout: limits.socket_timeout_seconds * 1000,
    closeTimeout: 5000,
    logger: false,
  };
}
