// MTA-STS grammar: TXT records, policy files (valid and hostile) and MX matching.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mxPatternMatches, parseStsPolicy, parseStsTxt, policyAllowsMx } from './mta-sts-policy.ts';

describe('parseStsTxt (RFC 8461 §3.1)', () => {
  it('reads the id of one v=STSv1 record, joining character-strings and ignoring other records', () => {
    assert.deepEqual(parseStsTxt([['v=STSv1; id=20160831085700Z;']]), {
      ok: true,
      value: { id: '20160831085700Z' },
    });
    assert.deepEqual(parseStsTxt([['v=STSv1; ', 'id=abc']]), { ok: true, value: { id: 'abc' } });
    assert.deepEqual(parseStsTxt([['v=spf1 -all'], ['v=STSv1;id=x1;ext=foo']]), {
      ok: true,
      value: { id: 'x1' },
    });
  });

  it('treats several v=STSv1 records as no policy', () => {
    const r = parseStsTxt([['v=STSv1; id=a'], ['v=STSv1; id=b']]);
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.reason, /2 v=STSv1 TXT records/);
  });

  it('refuses records without an id, with a bad id, or malformed', () => {
    for (const record of [
      'v=STSv1',
      'v=STSv1;',
      'v=STSv1; id=',
      `v=STSv1; id=${'a'.repeat(33)}`,
      'v=STSv1; id=a-b',
      'v=STSv1;; id=a',
      'v=STSv1; id a',
      'v=STSv1; =x; id=a',
    ]) {
      assert.equal(parseStsTxt([[record]]).ok, false, record);
    }
    assert.equal(parseStsTxt([['v=STSv10; id=a']]).ok, false);
    assert.equal(parseStsTxt([['V=STSv1; id=a']]).ok, false, 'the prefix is case-sensitive');
    assert.equal(parseStsTxt([]).ok, false);
  });
});

describe('parseStsPolicy (RFC 8461 §3.2)', () => {
  const good = 'version: STSv1\nmode: enforce\nmx: mail.example.com\nmx: *.example.net\nmax_age: 604800\n';

  it('parses a policy with LF or CRLF endings, in any order, ignoring unknown keys', () => {
    const lf = parseStsPolicy(good);
    assert.deepEqual(lf, {
      ok: true,
      value: {
        mode: 'enforce',
        mx: ['mail.example.com', '*.example.net'],
        maxAge: 604800,
        lines: [
          'version: STSv1',
          'mode: enforce',
          'mx: mail.example.com',
          'mx: *.example.net',
          'max_age: 604800',
        ],
      },
    });
    const crlf = parseStsPolicy(good.replaceAll('\n', '\r\n'));
    assert.ok(crlf.ok);
    assert.deepEqual(crlf.value.mx, ['mail.example.com', '*.example.net']);
    const shuffled = parseStsPolicy(
      'max_age:86400\r\nmx: MX.Example.ORG.\r\nfuture_key: whatever\r\nmode:testing\r\nversion: STSv1',
    );
    assert.ok(shuffled.ok);
    assert.equal(shuffled.value.mode, 'testing');
    assert.deepEqual(shuffled.value.mx, ['mx.example.org']);
    assert.equal(shuffled.value.maxAge, 86400);
  });

  it('allows mode none without mx and clamps max_age to one year', () => {
    const none = parseStsPolicy('version: STSv1\nmode: none\nmax_age: 9999999999\n');
    assert.ok(none.ok);
    assert.equal(none.value.mode, 'none');
    assert.equal(none.value.maxAge, 31557600);
  });

  it('refuses malformed policies', () => {
    const cases: Record<string, string> = {
      'no version': 'mode: enforce\nmx: a.example\nmax_age: 1\n',
      'wrong version': 'version: STSv2\nmode: enforce\nmx: a.example\nmax_age: 1\n',
      'mode case': 'version: STSv1\nmode: Enforce\nmx: a.example\nmax_age: 1\n',
      'bad mode': 'version: STSv1\nmode: strict\nmx: a.example\nmax_age: 1\n',
      'no max_age': 'version: STSv1\nmode: enforce\nmx: a.example\n',
      'negative max_age': 'version: STSv1\nmode: enforce\nmx: a.example\nmax_age: -1\n',
      'long max_age': 'version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 12345678901\n',
      'no mx': 'version: STSv1\nmode: enforce\nmax_age: 1\n',
      'bad wildcard': 'version: STSv1\nmode: enforce\nmx: *example.net\nmax_age: 1\n',
      'inner wildcard': 'version: STSv1\nmode: enforce\nmx: mail.*.example.net\nmax_age: 1\n',
      'bad label': 'version: STSv1\nmode: enforce\nmx: -a.example\nmax_age: 1\n',
      'no colon': 'version: STSv1\nmode enforce\nmx: a.example\nmax_age: 1\n',
      html: '<html><body>Not found</body></html>\n',
      empty: '',
    };
    for (const [name, text] of Object.entries(cases)) assert.equal(parseStsPolicy(text).ok, false, name);
  });
});

describe('MX matching (RFC 8461 §4.1)', () => {
  it('matches exact names case-insensitively and a wildcard for exactly one label', () => {
    assert.ok(mxPatternMatches('mail.example.com', 'MAIL.example.com.'));
    assert.ok(!mxPatternMatches('mail.example.com', 'mail2.example.com'));
    assert.ok(mxPatternMatches('*.example.net', 'mx1.example.net'));
    assert.ok(!mxPatternMatches('*.example.net', 'example.net'));
    assert.ok(!mxPatternMatches('*.example.net', 'a.b.example.net'));
    assert.ok(!mxPatternMatches('*.example.net', 'mx1.example.net.evil'));
    assert.ok(!mxPatternMatches('*.example.net', 'mx1.badexample.net'));
    assert.ok(policyAllowsMx({ mx: ['a.example', '*.b.example'] }, 'x.b.example'));
    assert.ok(!policyAllowsMx({ mx: [] }, 'a.example'));
  });
});
