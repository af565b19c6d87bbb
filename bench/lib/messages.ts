// Benchmark mail: DKIM-signed multipart/alternative messages of an exact size from the
// sender domain sender.bench.test, and the DNS records (SPF, DKIM, DMARC, reverse DNS) that
// make a receiving server verify them in full: SPF pass for 127.0.0.1, DKIM pass, DMARC
// pass with p=reject.

import { generateKeyPairSync } from 'node:crypto';
import { dkimSign } from 'mailauth';

export const SENDER_DOMAIN = 'sender.bench.test';
export const SENDER = `sender@${SENDER_DOMAIN}`;
export const RECIPIENT = 'rcpt@bench.test';
export const SELECTOR = 'bench';
/** What the load generator says in EHLO; the reverse DNS of 127.0.0.1 names it. */
export const CLIENT_NAME = 'load.bench.test';

export interface SigningKey {
  readonly privateKeyPem: string;
  /** Base64 SubjectPublicKeyInfo, the p= of the DKIM record. */
  readonly publicKeyBase64: string;
}

export function generateSigningKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyBase64: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
  };
}

/** Zone records for test/support/dns-server.ts. */
export function senderZone(key: SigningKey) {
  return {
    [SENDER_DOMAIN]: { TXT: ['v=spf1 ip4:127.0.0.1 -all'] },
    [`_dmarc.${SENDER_DOMAIN}`]: { TXT: ['v=DMARC1; p=reject'] },
    [`${SELECTOR}._domainkey.${SENDER_DOMAIN}`]: { TXT: [`v=DKIM1; k=rsa; p=${key.publicKeyBase64}`] },
    [CLIENT_NAME]: { A: ['127.0.0.1'] },
    '1.0.0.127.in-addr.arpa': { PTR: [CLIENT_NAME] },
  };
}

const WORDS = (
  'the quarterly report shows steady growth in every region and the team will meet on ' +
  'thursday to review the numbers before they go to the board please send your comments ' +
  'on the attached draft by wednesday noon so that we can fold them in'
).split(' ');

/** Text lines of at most 72 characters, exactly `bytes - 2` long (no final CRLF), deterministic. */
function textLines(bytes: number, seed: number): string {
  const target = Math.max(0, bytes - 2);
  let out = '';
  let w = seed;
  for (let n = 0; out.length < target; n++) {
    let line = n % 40 === 7 ? '.' : ''; // a leading dot now and then: dot-stuffing
    while (line.length < 60) line += `${WORDS[w++ % WORDS.length]} `;
    out += `${line.trimEnd()}\r\n`;
  }
  out = out.slice(0, target);
  return out.endsWith('\r') ? `${out.slice(0, -1)}x` : out; // never a bare CR
}

function unsigned(index: number, bodyBytes: number, from: string): string {
  const id = String(index).padStart(8, '0');
  const textBytes = Math.max(2, Math.floor(bodyBytes / 2));
  const htmlBytes = Math.max(2, bodyBytes - textBytes);
  return [
    `From: Bench Sender <${from}>`,
    `To: <${RECIPIENT}>`,
    `Subject: Benchmark message ${id}`,
    'Date: Mon, 02 Mar 2026 09:00:00 +0000',
    `Message-ID: <bench.${id}@${SENDER_DOMAIN}>`,
    'MIME-Version: 1.0',
    'Content-Type: multipart/alternative; boundary="=_bench_boundary"',
    '',
    '--=_bench_boundary',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 7bit',
    '',
    textLines(textBytes, index),
    '--=_bench_boundary',
    'Content-Type: text/html; charset=utf-8',
    'Content-Transfer-Encoding: 7bit',
    '',
    `<html><body><p>${textLines(htmlBytes - 33, index + 1)}</p></body></html>`,
    '--=_bench_boundary--',
    '',
  ].join('\r\n');
}

async function sign(message: string, key: SigningKey): Promise<Buffer> {
  const entry = {
    signingDomain: SENDER_DOMAIN,
    selector: SELECTOR,
    privateKey: key.privateKeyPem,
    algorithm: 'rsa-sha256',
  };
  // mailauth signs only what is listed in signatureData; the top-level fields satisfy its types.
  const { signatures, errors } = await dkimSign(Buffer.from(message), { ...entry, signatureData: [entry] });
  if (signatures === '' || (errors?.length ?? 0) > 0)
    throw new Error(`DKIM signing failed: ${JSON.stringify(errors)}`);
  return Buffer.from(signatures + message);
}

export interface MessageSet {
  readonly messages: readonly Buffer[];
  /** Length of every message, signature included. */
  readonly size: number;
}

/**
 * `count` distinct messages (Message-ID, subject and text differ), each DKIM-signed and
 * exactly `size` bytes long including the DKIM-Signature field. Indexes start at `first`.
 */
export async function buildMessages(
  key: SigningKey,
  count: number,
  size: number,
  first = 0,
  from = SENDER,
): Promise<MessageSet> {
  // Every message has the same shape (fixed-width index), so one probe finds the padding.
  const probeBody = 4096;
  const probe = await sign(unsigned(first, probeBody, from), key);
  const bodyBytes = probeBody + (size - probe.length);
  if (bodyBytes < 64) throw new Error(`--size ${size} is too small for a signed message`);
  const messages: Buffer[] = [];
  for (let i = first; i < first + count; i++) messages.push(await sign(unsigned(i, bodyBytes, from), key));
  const odd = messages.find((m) => m.length !== size);
  return { messages, size: odd === undefined ? size : odd.length };
}
