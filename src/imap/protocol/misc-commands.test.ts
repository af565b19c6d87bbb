import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsed, rejected } from './test-helpers.ts';

describe('IMAP COMPRESS (RFC 4978)', () => {
  it('accepts DEFLATE only', () => {
    assert.deepEqual(parsed('t COMPRESS deflate'), { name: 'COMPRESS', mechanism: 'DEFLATE' });
    for (const s of ['t COMPRESS', 't COMPRESS GZIP', 't COMPRESS DEFLATE x', 't COMPRESS "DEFLATE"'])
      rejected(s);
  });
});

describe('IMAP QUOTA (RFC 9208)', () => {
  it('GETQUOTA and GETQUOTAROOT', () => {
    assert.deepEqual(parsed('t GETQUOTA ""'), { name: 'GETQUOTA', root: '' });
    assert.deepEqual(parsed('t getquota user.alice'), { name: 'GETQUOTA', root: 'user.alice' });
    assert.deepEqual(parsed('t GETQUOTAROOT inbox'), { name: 'GETQUOTAROOT', mailbox: 'INBOX' });
    assert.deepEqual(parsed('t GETQUOTAROOT Entw&APw-rfe'), { name: 'GETQUOTAROOT', mailbox: 'Entwürfe' });
    for (const s of ['t GETQUOTA', 't GETQUOTA a b', 't GETQUOTAROOT', 't GETQUOTAROOT ""']) rejected(s);
  });

  it('SETQUOTA with resource limits', () => {
    const r = parsed('t SETQUOTA "" (storage 512 MESSAGE 9007199254740991)');
    assert.ok(r.name === 'SETQUOTA');
    assert.equal(r.root, '');
    assert.deepEqual(
      [...r.limits],
      [
        ['STORAGE', 512],
        ['MESSAGE', 2 ** 53 - 1],
      ],
    );
    const empty = parsed('t SETQUOTA x ()');
    assert.ok(empty.name === 'SETQUOTA' && empty.limits.size === 0);
    for (const s of [
      't SETQUOTA ""',
      't SETQUOTA "" (STORAGE)',
      't SETQUOTA "" (STORAGE -1)',
      't SETQUOTA "" (STORAGE 9007199254740992)',
      't SETQUOTA "" (STORAGE 1 STORAGE 2)',
      't SETQUOTA "" ((STORAGE 1))',
      't SETQUOTA "" STORAGE 1',
    ])
      rejected(s);
  });
});
