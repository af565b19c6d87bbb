import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normaliseDomain, parseAddress, withoutSubaddress } from './address.ts';

describe('addresses', () => {
  const ok = (s: string, utf8 = false) => {
    const r = parseAddress(s, { utf8 });
    assert.ok(r.ok, `${s}: ${r.ok ? '' : r.reason}`);
    return r.value.address;
  };
  const bad = (s: string, why: RegExp, utf8 = false) => {
    const r = parseAddress(s, { utf8 });
    assert.ok(!r.ok, `${JSON.stringify(s)} should be refused`);
    assert.match(r.reason, why);
  };

  it('normalises case, quoting, trailing dots and IDN domains', () => {
    assert.equal(ok('John.Doe@Example.COM'), 'john.doe@example.com');
    assert.equal(ok('"john"@example.com'), 'john@example.com');
    assert.equal(ok('a@example.com.'), 'a@example.com');
    assert.equal(ok('jö@bücher.de', true), 'jö@xn--bcher-kva.de');
    assert.equal(normaliseDomain('BÜCHER.de'), 'xn--bcher-kva.de');
  });

  it('refuses ambiguous and malformed forms', () => {
    bad('a@b@example.com', /ambiguous/);
    bad('"a b"@example.com', /quoted/);
    bad('"a"b"@example.com', /quoted|unbalanced/);
    bad('a..b@example.com', /local part/);
    bad('.a@example.com', /local part/);
    bad('a@[127.0.0.1]', /domain/);
    bad('a@-x.example', /domain/);
    bad('a@x_y.example', /domain/);
    bad('a\u0000b@example.com', /control/);
    bad('a\r\nRCPT TO:<b@example.com>', /control/);
    bad('jö@example.com', /SMTPUTF8/);
    bad(`${'a'.repeat(65)}@example.com`, /too long/);
    bad(`a@${'b'.repeat(250)}.com`, /too long|domain/);
    bad('', /empty/);
    bad('nobody', /local@domain/);
  });

  it('strips a +sub-address', () => {
    const r = parseAddress('alice+lists@example.com');
    assert.ok(r.ok);
    assert.equal(withoutSubaddress(r.value)?.address, 'alice@example.com');
    const plain = parseAddress('alice@example.com');
    assert.ok(plain.ok);
    assert.equal(withoutSubaddress(plain.value), null);
  });
});
