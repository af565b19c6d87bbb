// Fetching an MTA-STS policy (RFC 8461 §3.3): GET https://mta-sts.DOMAIN/.well-known/mta-sts.txt
// with certificate validation against the WebPKI (or the injected `ca`), the host name
// checked against the certificate, and the connection made to an address our own resolver gave.
//
// Invariants:
// - The address comes from the DnsResolver argument (never the system's resolver), passes the
//   caller's addressFilter, and the TLS handshake uses SNI and name checks for mta-sts.DOMAIN.
// - No redirect is followed (§3.3: a 3xx is a failure); only 200 with media type text/plain counts.
// - At most `maxBytes` (64 KiB) of body are read; a larger body (or Content-Length) is refused.
// - Everything, address attempts included, finishes within `timeoutMs` (default 10 s).
// - Failures carry the TLS-RPT result type (RFC 8460 §4.3.2.1) the report should use.

import https from 'node:https';
import type { DnsResolver } from '../net/dns.ts';
import { tlsClientPolicyOptions } from '../tls/policy.ts';
import { type MtaStsPolicy, parseStsPolicy } from './mta-sts-policy.ts';

export type StsFailureType = 'sts-policy-fetch-error' | 'sts-policy-invalid' | 'sts-webpki-invalid';

export type StsFetchResult =
  | { ok: true; policy: MtaStsPolicy }
  | { ok: false; failure: StsFailureType; reason: string };

export interface StsFetchOptions {
  resolver: DnsResolver;
  /** Trust roots (PEM) replacing the system roots; tests pass their test CA. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Default 10000. */
  timeoutMs?: number;
  /** Default 65536 (§3.3 suggests a limit of 64 KiB). */
  maxBytes?: number;
  /** Port of the policy host; 443 except in tests. */
  port?: number;
  /** Returns false for an address that must not be connected to. */
  addressFilter?: (address: string) => boolean;
  /** Most addresses tried. Default 3. */
  maxAddresses?: number;
}

const WELL_KNOWN = '/.well-known/mta-sts.txt';
const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_BYTES = 65_536;
/** OpenSSL verification results as node reports them (X509_V_ERR_* names) and node's name check. */
const CERT_ERROR =
  /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ALTNAME|HOSTNAME_MISMATCH|INVALID_CA|INVALID_PURPOSE|PATH_LENGTH|UNTRUSTED|REJECTED/;
const CONNECT_ERROR = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ECONNRESET']);

class FetchFailure extends Error {
  readonly failure: StsFailureType;
  readonly retryOtherAddress: boolean;
  constructor(failure: StsFailureType, reason: string, retryOtherAddress = false) {
    super(reason);
    this.failure = failure;
    this.retryOtherAddress = retryOtherAddress;
  }
}

async function policyAddresses(host: string, opts: StsFetchOptions): Promise<string[]> {
  const settled = await Promise.allSettled([
    opts.resolver.resolve(host, 'A'),
    opts.resolver.resolve(host, 'AAAA'),
  ]);
  const all = settled.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
  if (all.length === 0) {
    const codes = settled.map((r) =>
      r.status === 'rejected' ? String((r.reason as { code?: unknown })?.code) : 'none',
    );
    throw new FetchFailure('sts-policy-fetch-error', `${host} has no address (${codes.join(', ')})`);
  }
  const allowed = all.filter(opts.addressFilter ?? (() => true));
  if (allowed.length === 0)
    throw new FetchFailure('sts-policy-fetch-error', `no allowed address for ${host}`);
  return allowed.slice(0, opts.maxAddresses ?? 3);
}

/** Fetches and parses the policy of `domain`. Never throws. */
export async function fetchStsPolicy(domain: string, opts: StsFetchOptions): Promise<StsFetchResult> {
  const host = `mta-sts.${domain.toLowerCase().replace(/\.$/, '')}`;
  const deadline = Date.now() + (opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  try {
    const addresses = await policyAddresses(host, opts);
    let text: string | undefined;
    for (const [i, address] of addresses.entries()) {
      try {
        text = await getPolicyText(host, address, deadline, opts);
        break;
      } catch (err) {
        if (!(err instanceof FetchFailure && err.retryOtherAddress && i < addresses.length - 1)) throw err;
      }
    }
    const parsed = parseStsPolicy(text ?? '');
    if (!parsed.ok)
      return { ok: false, failure: 'sts-policy-invalid', reason: `policy of ${domain}: ${parsed.reason}` };
    return { ok: true, policy: parsed.value };
  } catch (err) {
    if (err instanceof FetchFailure) return { ok: false, failure: err.failure, reason: err.message };
    return {
      ok: false,
      failure: 'sts-policy-fetch-error',
      reason: `fetching the policy of ${domain} failed: ${String(err)}`,
    };
  }
}

function getPolicyText(
  host: string,
  address: string,
  deadline: number,
  opts: StsFetchOptions,
): Promise<string> {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const port = opts.port ?? 443;
  const url = `https://${host}${port === 443 ? '' : `:${port}`}${WELL_KNOWN}`;
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (err: FetchFailure | null, text?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      if (err) reject(err);
      else resolve(text ?? '');
    };
    const req = https.request({
      ...tlsClientPolicyOptions(),
      host: address,
      port,
      servername: host, // SNI and the certificate name check (RFC 8461 §3.3, RFC 6125)
      path: WELL_KNOWN,
      method: 'GET',
      headers: {
        host: port === 443 ? host : `${host}:${port}`,
        'user-agent': 'Sealpost MTA-STS',
        accept: 'text/plain',
      },
      agent: false,
      rejectUnauthorized: true,
      ...(opts.ca === undefined ? {} : { ca: opts.ca }),
    });
    const timer = setTimeout(
      () =>
        finish(
          new FetchFailure('sts-policy-fetch-error', `${url}: no complete answer within the time limit`),
        ),
      Math.max(0, deadline - Date.now()),
    );
    req.on('error', (err: Error & { code?: string }) => {
      const code = err.code ?? '';
      if (CERT_ERROR.test(code)) {
        finish(new FetchFailure('sts-webpki-invalid', `${url}: certificate not valid for ${host} (${code})`));
      } else {
        finish(
          new FetchFailure(
            'sts-policy-fetch-error',
            `${url} (${address}): ${code || err.message}`,
            CONNECT_ERROR.has(code),
          ),
        );
      }
    });
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400) {
        return finish(
          new FetchFailure('sts-policy-fetch-error', `${url}: redirect (${status}) refused (RFC 8461 §3.3)`),
        );
      }
      if (status !== 200) return finish(new FetchFailure('sts-policy-fetch-error', `${url}: HTTP ${status}`));
      const type = (res.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
      if (type !== 'text/plain') {
        return finish(
          new FetchFailure(
            'sts-policy-invalid',
            `${url}: media type ${JSON.stringify(type ?? '')} is not text/plain`,
          ),
        );
      }
      const declared = Number(res.headers['content-length'] ?? 0);
      const tooBig = () =>
        new FetchFailure('sts-policy-invalid', `${url}: policy larger than ${maxBytes} bytes`);
      if (declared > maxBytes) return finish(tooBig());
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) return finish(tooBig());
        chunks.push(chunk);
      });
      res.on('end', () => finish(null, Buffer.concat(chunks).toString('utf8')));
      res.on('error', (err) => finish(new FetchFailure('sts-policy-fetch-error', `${url}: ${err.message}`)));
    });
    req.end();
  });
}
