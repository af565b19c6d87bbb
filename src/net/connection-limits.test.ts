// ConnectionLimiter: per-address and total caps, release, and the address keys
// (IPv4-mapped IPv6 counts as IPv4; IPv6 counts per /64).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { addressKey, ConnectionLimiter } from './connection-limits.ts';

describe('ConnectionLimiter', () => {
  test('caps connections per address and frees a slot on release', () => {
    const l = new ConnectionLimiter({ maxPerAddress: 2, maxTotal: 100 });
    assert.equal(l.tryAcquire('192.0.2.1'), true);
    assert.equal(l.tryAcquire('192.0.2.1'), true);
    assert.equal(l.tryAcquire('192.0.2.1'), false);
    assert.equal(l.count('192.0.2.1'), 2);
    assert.equal(l.tryAcquire('192.0.2.2'), true); // another address has its own budget
    l.release('192.0.2.1');
    assert.equal(l.count('192.0.2.1'), 1);
    assert.equal(l.tryAcquire('192.0.2.1'), true);
    assert.equal(l.total, 3);
  });

  test('caps the total', () => {
    const l = new ConnectionLimiter({ maxPerAddress: 10, maxTotal: 2 });
    assert.equal(l.tryAcquire('192.0.2.1'), true);
    assert.equal(l.tryAcquire('192.0.2.2'), true);
    assert.equal(l.tryAcquire('192.0.2.3'), false);
    l.release('192.0.2.1');
    assert.equal(l.tryAcquire('192.0.2.3'), true);
  });

  test('releasing more than was acquired never creates budget', () => {
    const l = new ConnectionLimiter({ maxPerAddress: 1, maxTotal: 1 });
    l.release('192.0.2.1');
    assert.equal(l.total, 0);
    assert.equal(l.tryAcquire('192.0.2.1'), true);
    l.release('192.0.2.1');
    l.release('192.0.2.1');
    assert.equal(l.total, 0);
    assert.equal(l.count('192.0.2.1'), 0);
    assert.equal(l.tryAcquire('192.0.2.1'), true);
    assert.equal(l.tryAcquire('192.0.2.9'), false);
  });

  test('an IPv4-mapped IPv6 address counts as the IPv4 address', () => {
    const l = new ConnectionLimiter({ maxPerAddress: 2, maxTotal: 100 });
    assert.equal(l.tryAcquire('203.0.113.7'), true);
    assert.equal(l.tryAcquire('::ffff:203.0.113.7'), true);
    assert.equal(l.tryAcquire('::FFFF:cb00:7107'), false); // same address, hex form
    assert.equal(l.count('203.0.113.7'), 2);
    l.release('::ffff:203.0.113.7');
    assert.equal(l.count('203.0.113.7'), 1);
  });

  test('IPv6 addresses count per /64', () => {
    const l = new ConnectionLimiter({ maxPerAddress: 2, maxTotal: 100 });
    assert.equal(l.tryAcquire('2001:db8:1:2::1'), true);
    assert.equal(l.tryAcquire('2001:db8:1:2:aaaa:bbbb:cccc:dddd'), true);
    assert.equal(l.tryAcquire('2001:0db8:0001:0002:ffff::1%eth0'), false); // same /64
    assert.equal(l.tryAcquire('2001:db8:1:3::1'), true); // the next /64
    assert.equal(l.count('2001:db8:1:2::42'), 2);
  });

  test('address keys', () => {
    assert.equal(addressKey('198.51.100.1'), '198.51.100.1');
    assert.equal(addressKey('::ffff:198.51.100.1'), '198.51.100.1');
    assert.equal(addressKey('2001:DB8::1'), '2001:db8:0:0::/64');
    assert.equal(addressKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
    assert.equal(addressKey('::1'), '0:0:0:0::/64');
    assert.equal(addressKey('64:ff9b::198.51.100.1'), '64:ff9b:0:0::/64'); // NAT64 is not IPv4-mapped
    assert.equal(addressKey('/run/sealpost.sock'), '/run/sealpost.sock');
  });

  test('refuses nonsensical limits', () => {
    assert.throws(() => new ConnectionLimiter({ maxPerAddress: 0, maxTotal: 10 }), RangeError);
    assert.throws(() => new ConnectionLimiter({ maxPerAddress: 1, maxTotal: 1.5 }), RangeError);
  });
});
