// delivery/dkim: DKIM signing for outbound mail (issue 5 item 2; RFC 6376, RFC 8463).
// Per-domain Ed25519 + RSA-2048 pairs, sealed at rest, generated pending, activated once
// DNS publishes them, rotated with an overlap; every message signed with both keys,
// relaxed/relaxed, the meaningful header fields oversigned.
//
// Wiring: one DkimKeyring per process that sends (submission/delivery), built from the
// runtime's store and master key ring; `await keyring.sign(raw, fromDomain)` before the
// message is queued, and the returned `message` bytes are what gets delivered.

export { recordName, txtValue, zoneLine } from './dns-record.ts';
export { checkDkimKey, type DkimSigningKey, importDkimKey, openDkimKey } from './key-material.ts';
export { DkimKeyring, type DkimKeyringOptions, type DkimSignResult } from './keyring.ts';
export {
  type Activation,
  activateDkimKeys,
  DEFAULT_OVERLAP_MS,
  type DkimAdmin,
  finishDueRetirements,
  generateDkimKeys,
  mustPublish,
  requireHostedDomain,
  retireDkimKeys,
} from './manage.ts';
export { type SignOptions, signMessage } from './sign.ts';
