// Which sender addresses an authenticated account may use (issue 5, item 1): the
// envelope sender and the From (and Sender) header of submitted mail must name an
// address the account owns, or the submission is refused with 5.7.1.
//
// An account owns:
// - its own address, and its +sub-addresses (alice+lists@example.org);
// - every alias that delivers to it (sales@example.org -> alice), the same way mail
//   to that alias reaches it. A catch-all (@example.org) does not make every address
//   of the domain the account's own.
//
// Addresses go through core/address.ts, the parser the router uses, so the address
// checked here is the address mail is routed by (no parser differential).

import { type Address, parseAddress, withoutSubaddress } from '../core/address.ts';
import { parseAddressList } from '../mime/envelope.ts';
import type { Account, Store } from '../store/types.ts';

export async function ownsAddress(store: Store, account: Account, address: Address): Promise<boolean> {
  const own = account.address.toLowerCase();
  const candidates = [address.address];
  const base = withoutSubaddress(address);
  if (base !== null) candidates.push(base.address);
  for (const candidate of candidates) {
    if (candidate === own) return true;
    const alias = await store.getAlias(candidate);
    if (alias?.destinations.some((d) => d.toLowerCase() === own)) return true;
  }
  return false;
}

/**
 * The one addr-spec of a From or Sender header value, or a reason it has none: a
 * group, several mailboxes, or an address that is not a plain local@domain. Header
 * values may carry encoded words in the display name only; an encoded word inside
 * the address itself is not decoded (RFC 2047 §5 forbids it there) and so fails the
 * address parser.
 */
export function singleHeaderAddress(
  value: string,
): { ok: true; address: Address } | { ok: false; reason: string } {
  const list = parseAddressList(value);
  if (list === null || list.length !== 1) return { ok: false, reason: 'it must name exactly one address' };
  const only = list[0]!;
  if (only.mailbox === null || only.host === null) return { ok: false, reason: 'it has no address' };
  // The display parser (mime/envelope.ts) reads "a@b@c" as a@bc; a policy must not.
  if (atSignsInAddrSpec(value) !== 1) return { ok: false, reason: 'the address must have exactly one @' };
  const parsed = parseAddress(`${only.mailbox}@${only.host}`, { utf8: true });
  if (!parsed.ok) return { ok: false, reason: parsed.reason };
  return { ok: true, address: parsed.value };
}

/**
 * The '@' signs of a single mailbox's addr-spec (RFC 5322 §3.4), ignoring quoted
 * strings, comments, the display name and an obs-route (§4.4, "@a,@b:"); a well-formed
 * address has exactly one.
 */
function atSignsInAddrSpec(value: string): number {
  let plain = '';
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === '\\' && (quoted || depth > 0)) i++;
    else if (quoted) quoted = c !== '"';
    else if (c === '(') depth++;
    else if (c === ')' && depth > 0) depth--;
    else if (depth > 0) continue;
    else if (c === '"') quoted = true;
    else plain += c;
  }
  let spec = plain;
  const lt = plain.lastIndexOf('<');
  if (lt !== -1) {
    const gt = plain.indexOf('>', lt);
    spec = plain.slice(lt + 1, gt === -1 ? plain.length : gt);
    spec = spec.slice(spec.lastIndexOf(':') + 1); // the obs-route, if any
  }
  return spec.split('@').length - 1;
}
