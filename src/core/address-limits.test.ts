// Regression tests found by the address fuzz target (fuzz/targets/address.ts): the
// RFC 5321 §4.5.3.1 limits hold on the normalised address, in octets. The input was
// checked in UTF-16 code units before lower-casing, NFC and punycode, so an input
// of 253 characters could normalise to an address of 257 octets, which then did not
// re-parse (normalisation was not idempotent).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LIMITS, parseAddress } from './address.ts';

const domain = Array(4).fill('y'.repeat(60)).join('.'); // 243 octets

describe('address limits are octets of the normalised address', () => {
  it('refuses the shrunk counterexample: 253 characters, 257 octets after normalisation', () => {
    const input = `aǅaΣaaﬁΣ@${domain}`;
    assert.ok(input.length <= LIMITS.path);
    const r = parseAddress(input, { utf8: true });
    assert.ok(!r.ok, 'accepted an address longer than 256 octets');
    assert.match(r.reason, /too long/);
  });

  it('refuses an IDN domain whose punycode form pushes the address over 256 octets', () => {
    const local = 'a'.repeat(64);
    const idn = Array(3).fill('ü'.repeat(40)).join('.');
    const r = parseAddress(`${local}@${idn}`, { utf8: true });
    if (r.ok) assert.ok(Buffer.byteLength(r.value.address) <= LIMITS.path);
    else assert.match(r.reason, /too long|invalid domain/);
  });

  it('accepts an address of exactly 256 octets and re-parses it to itself', () => {
    const input = `${'a'.repeat(12)}@${domain}`;
    assert.equal(Buffer.byteLength(input), 256);
    const r = parseAddress(input);
    assert.ok(r.ok);
    const again = parseAddress(r.value.address);
    assert.deepEqual(again, r);
  });

  it('refuses a local part of more than 64 octets in UTF-8 even when it has fewer characters', () => {
    const r = parseAddress(`${'é'.repeat(33)}@example.org`, { utf8: true });
    assert.ok(!r.ok);
    assert.match(r.reason, /local part too long/);
  });
});
