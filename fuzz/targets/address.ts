// Fuzz target: the one address parser (src/core/address.ts) and the From/Sender
// header check built on it (src/smtp/sender-policy.ts singleHeaderAddress, which
// goes through the ENVELOPE address-list parser of src/mime/envelope.ts).
// Properties:
// - parseAddress never throws: ok with a normalised address, or a reason;
// - ok → the address is local@domain, re-parses to itself (idempotent), and the
//   RFC 5321 §4.5.3.1 limits hold on what is stored and routed: local part ≤ 64
//   octets, domain ≤ 255 octets, the whole address ≤ 256 octets;
// - without SMTPUTF8 an accepted address is ASCII; with it the same input gives the same result
//   whenever the input is ASCII;
// - singleHeaderAddress never throws, and what it returns parses to itself.

import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LIMITS, parseAddress } from '../../src/core/address.ts';
import { singleHeaderAddress } from '../../src/smtp/sender-policy.ts';
import type { FuzzTarget } from '../target.ts';

export interface AddressInput {
  readonly text: string;
  readonly utf8: boolean;
}

const atext = fc.constantFrom(
  ..."abcXYZ09!#$%&'*+-/=?^_`{|}~".split(''),
  'é',
  'ß',
  'İ',
  'Σ',
  'ﬁ',
  '\u0307',
  'ǅ',
  '中',
  '😀',
);
const atom = fc.string({ unit: atext, minLength: 1, maxLength: 24 });
const local = fc.oneof(
  fc.array(atom, { minLength: 1, maxLength: 4 }).map((a) => a.join('.')),
  fc.array(atom, { minLength: 1, maxLength: 3 }).map((a) => `"${a.join('.')}"`),
  fc.integer({ min: 60, max: 70 }).map((n) => 'a'.repeat(n)),
  fc.string({ maxLength: 10 }),
);
const label = fc.oneof(
  fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?$/),
  fc.constantFrom(
    'xn--bcher-kva',
    'bücher',
    'ÉCOLE',
    'straße',
    'xn--',
    'a-',
    '-a',
    '中国',
    'ＥＸＡＭＰＬＥ',
    'x'.repeat(63),
    'x'.repeat(64),
  ),
  fc.string({ unit: fc.constantFrom('ü', 'ö', 'ä', '中', 'a'), minLength: 1, maxLength: 60 }),
);
const domain = fc.oneof(
  fc.array(label, { minLength: 1, maxLength: 5 }).map((l) => l.join('.')),
  fc.array(label, { minLength: 3, maxLength: 6 }).map((l) => `${l.join('.')}.`),
  fc.constantFrom('[127.0.0.1]', 'example.org', 'EXAMPLE.ORG', 'a..b', ''),
  fc.integer({ min: 4, max: 5 }).map((n) => Array(n).fill('y'.repeat(60)).join('.')),
);
const addressText = fc.oneof(
  {
    weight: 5,
    arbitrary: fc
      .tuple(local, fc.constantFrom('@', '@', '@@', '@"'), domain)
      .map(([l, at, d]) => `${l}${at}${d}`),
  },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 300 }) },
);

function checkParsed(text: string, utf8: boolean): void {
  const r = parseAddress(text, { utf8 });
  if (!r.ok) {
    assert.equal(typeof r.reason, 'string');
    assert.ok(r.reason.length > 0);
    return;
  }
  const a = r.value;
  assert.equal(a.address, `${a.local}@${a.domain}`);
  assert.ok(
    Buffer.byteLength(a.local) <= LIMITS.localPart,
    `local part of ${Buffer.byteLength(a.local)} octets`,
  );
  assert.ok(a.domain.length <= LIMITS.domain, `domain of ${a.domain.length} octets`);
  assert.ok(/^[\x21-\x7e]+$/.test(a.domain), 'domain is not A-label ASCII');
  assert.ok(Buffer.byteLength(a.address) <= LIMITS.path, `address of ${Buffer.byteLength(a.address)} octets`);
  if (!utf8) assert.ok(/^[\x00-\x7f]*$/.test(a.address), 'non-ASCII address accepted without SMTPUTF8');
  const again = parseAddress(a.address, { utf8: true });
  assert.ok(
    again.ok,
    `normalised ${JSON.stringify(a.address)} does not re-parse: ${again.ok ? '' : again.reason}`,
  );
  assert.deepEqual(again.value, a, 'normalisation is not idempotent');
}

export function checkAddress(input: AddressInput): void {
  checkParsed(input.text, input.utf8);
  if (/^[\x00-\x7f]*$/.test(input.text)) {
    assert.deepEqual(parseAddress(input.text, { utf8: true }), parseAddress(input.text, { utf8: false }));
  }
  for (const header of [input.text, `Name <${input.text}>`, `"Q" <${input.text}>, x@y.z`]) {
    const h = singleHeaderAddress(header);
    if (h.ok) {
      const again = parseAddress(h.address.address, { utf8: true });
      assert.ok(again.ok);
      assert.deepEqual(again.value, h.address);
    } else assert.ok(h.reason.length > 0);
  }
}

export const address: FuzzTarget<AddressInput> = {
  name: 'address',
  description: 'parseAddress/singleHeaderAddress: never throw, idempotent normalisation, 64/255/256 limits',
  arbitrary: fc.record({ text: addressText, utf8: fc.boolean() }),
  fromCorpus: (bytes) => ({ text: bytes.toString('utf8').replace(/\n$/, ''), utf8: true }),
  check: checkAddress,
  limits: { maxMillis: 100 },
};
