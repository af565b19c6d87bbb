import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsed, rejected } from './test-helpers.ts';

describe('IMAP CREATE with USE (RFC 6154 §5.2)', () => {
  it('takes one special-use attribute, canonical case', () => {
    assert.deepEqual(parsed('t CREATE Drafts (USE (\\drafts))'), {
      name: 'CREATE',
      mailbox: 'Drafts',
      specialUse: '\\Drafts',
    });
    assert.deepEqual(parsed('t CREATE x (use ())'), { name: 'CREATE', mailbox: 'x', specialUse: undefined });
    for (const u of ['\\All', '\\Archive', '\\Flagged', '\\Junk', '\\Sent', '\\Trash']) {
      const r = parsed(`t CREATE x (USE (${u}))`);
      assert.ok(r.name === 'CREATE' && r.specialUse === u);
    }
  });

  it('refuses unknown parameters (BAD) and unknown or several uses (NO [USEATTR])', () => {
    for (const s of [
      't CREATE x ()',
      't CREATE x (FOO)',
      't CREATE x (USE)',
      't CREATE x (USE (\\Sent) USE (\\Sent))',
    ])
      assert.equal(rejected(s).status, 'BAD', s);
    for (const s of ['t CREATE x (USE (\\Spam))', 't CREATE x (USE (\\Sent \\Trash))']) {
      const e = rejected(s);
      assert.deepEqual([e.status, e.codeText], ['NO', 'USEATTR'], s);
    }
    rejected('t CREATE x (USE (Sent))');
  });
});

describe('IMAP LIST options (RFC 5258, RFC 5819, RFC 6154)', () => {
  it('validates selection options', () => {
    const r = parsed('t LIST (special-use SUBSCRIBED remote SUBSCRIBED) "" %');
    assert.ok(r.name === 'LIST');
    assert.deepEqual(r.selection, ['SPECIAL-USE', 'SUBSCRIBED', 'REMOTE']);
    const empty = parsed('t LIST () "" %');
    assert.ok(empty.name === 'LIST' && empty.selection.length === 0);
    assert.match(rejected('t LIST (RECURSIVEMATCH) "" *').message, /RECURSIVEMATCH/);
    rejected('t LIST (RECURSIVEMATCH REMOTE) "" *');
    rejected('t LIST (FOO) "" *');
    rejected('t LIST (SUBSCRIBED)"" *');
    rejected('t LIST  "" *');
  });

  it('validates return options; MYRIGHTS is ignored', () => {
    const r = parsed(
      't LIST "" * RETURN (CHILDREN special-use SUBSCRIBED MYRIGHTS STATUS (MESSAGES) CHILDREN)',
    );
    assert.ok(r.name === 'LIST');
    assert.deepEqual(r.returns, ['CHILDREN', 'SPECIAL-USE', 'SUBSCRIBED', 'STATUS']);
    assert.deepEqual(r.returnStatus, ['MESSAGES']);
    const empty = parsed('t LIST "" * RETURN ()');
    assert.ok(empty.name === 'LIST' && empty.returns.length === 0 && empty.returnStatus === undefined);
    for (const s of [
      't LIST "" * RETURN (FOO)',
      't LIST "" * RETURN (STATUS)',
      't LIST "" * RETURN (STATUS ())',
      't LIST "" * RETURN (STATUS (MESSAGES) STATUS (UNSEEN))',
      't LIST "" * RETURN (REMOTE)',
    ])
      rejected(s);
  });
});
