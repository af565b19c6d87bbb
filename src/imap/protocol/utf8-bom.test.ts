// Regression test found by the imap-encode fuzz target (fuzz/targets/imap-encode.ts):
// a string whose first character is U+FEFF went out as a literal (8-bit text) and
// came back without it, because the strict UTF-8 decoder of the grammar stripped it
// as a byte-order mark. In IMAP it is content: a password or a mailbox name.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { astring } from './response.ts';
import { parsed } from './test-helpers.ts';

describe('IMAP strings keep a leading U+FEFF', () => {
  it('LOGIN with a literal password starting with U+FEFF (the shrunk counterexample)', () => {
    const password = '\uFEFF';
    const wire = astring(password, false);
    assert.equal(wire, '{3}\r\n\uFEFF');
    const c = parsed(`a LOGIN "" {3+}\r\n\uFEFF`);
    assert.deepEqual(c, { name: 'LOGIN', user: '', password });
  });

  it('a UTF-8 quoted mailbox name starting with U+FEFF (UTF8=ACCEPT)', () => {
    const c = parsed('a SELECT "\uFEFFArchive"', true);
    assert.ok(c.name === 'SELECT');
    assert.equal(c.mailbox, '\uFEFFArchive');
  });
});
