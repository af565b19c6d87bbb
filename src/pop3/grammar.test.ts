import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeBase64, parseCommand, parsePlain } from './grammar.ts';

const ok = (line: string) => {
  const r = parseCommand(line);
  assert.ok(r.ok, `${line}: ${r.ok ? '' : r.error}`);
  return r.command;
};
const bad = (line: string) => {
  const r = parseCommand(line);
  assert.ok(!r.ok, `${line} should be refused`);
  return r;
};

describe('pop3 grammar', () => {
  it('parses the commands of RFC 1939, 2449, 2595 and 5034, keywords in any case', () => {
    assert.deepEqual(ok('stat'), { name: 'STAT' });
    assert.deepEqual(ok('CAPA'), { name: 'CAPA' });
    assert.deepEqual(ok('Stls'), { name: 'STLS' });
    assert.deepEqual(ok('LIST'), { name: 'LIST' });
    assert.deepEqual(ok('list 3'), { name: 'LIST', msg: 3 });
    assert.deepEqual(ok('UIDL 12'), { name: 'UIDL', msg: 12 });
    assert.deepEqual(ok('RETR 1'), { name: 'RETR', msg: 1 });
    assert.deepEqual(ok('DELE 2'), { name: 'DELE', msg: 2 });
    assert.deepEqual(ok('TOP 1 0'), { name: 'TOP', msg: 1, lines: 0 });
    assert.deepEqual(ok('TOP 4 10'), { name: 'TOP', msg: 4, lines: 10 });
    assert.deepEqual(ok('USER alice@sealpost.test'), { name: 'USER', user: 'alice@sealpost.test' });
    assert.deepEqual(ok('AUTH'), { name: 'AUTH' });
    assert.deepEqual(ok('AUTH plain'), { name: 'AUTH', mechanism: 'PLAIN' });
    assert.deepEqual(ok('AUTH PLAIN AGEAYg=='), {
      name: 'AUTH',
      mechanism: 'PLAIN',
      initialResponse: 'AGEAYg==',
    });
  });

  it('takes the rest of the PASS line as the password, spaces included', () => {
    assert.deepEqual(ok('PASS correct horse  battery '), {
      name: 'PASS',
      password: 'correct horse  battery ',
    });
    bad('PASS');
    bad('PASS ');
  });

  it('refuses message numbers that are not positive integers of at most 10 digits', () => {
    for (const line of [
      'RETR 0',
      'RETR -1',
      'RETR +1',
      'RETR 01',
      'RETR 1.5',
      'RETR x',
      'RETR',
      'RETR 1 2',
    ]) {
      assert.equal(bad(line).unknown, false, line);
    }
    bad('RETR 99999999999999999999');
    bad('RETR 12345678901');
    assert.deepEqual(ok('RETR 1234567890'), { name: 'RETR', msg: 1234567890 });
    bad('LIST 0');
    bad('UIDL -3');
    bad('DELE 1e3');
  });

  it('refuses a negative, signed or missing TOP line count', () => {
    bad('TOP 1 -5');
    bad('TOP 1 +5');
    bad('TOP 1');
    bad('TOP 0 5');
    bad('TOP 1 5 6');
  });

  it('refuses arguments where none belong, doubled spaces, and unknown commands', () => {
    bad('STAT 1');
    bad('QUIT now');
    bad('LIST  1');
    bad('USER');
    assert.equal(bad('XYZZY').unknown, true);
    assert.equal(bad('').unknown, true);
    assert.equal(bad('APOP alice 0123456789abcdef').unknown, true);
  });

  it('decodes strict base64 only', () => {
    assert.deepEqual(decodeBase64('AGEAYg=='), Buffer.from('\0a\0b'));
    assert.deepEqual(decodeBase64('='), Buffer.alloc(0));
    assert.equal(decodeBase64('not base64!'), null);
    assert.equal(decodeBase64('AGEAYg'), null);
    assert.equal(decodeBase64('AGE AYg=='), null);
    assert.equal(decodeBase64(''), null);
  });

  it('parses SASL PLAIN and refuses proxy authorisation or missing parts', () => {
    assert.deepEqual(parsePlain(Buffer.from('\0alice@x.test\0pw d')), {
      user: 'alice@x.test',
      password: 'pw d',
    });
    assert.deepEqual(parsePlain(Buffer.from('a@x\0a@x\0pw')), { user: 'a@x', password: 'pw' });
    assert.equal(parsePlain(Buffer.from('admin@x\0a@x\0pw')), null);
    assert.equal(parsePlain(Buffer.from('\0a@x')), null);
    assert.equal(parsePlain(Buffer.from('\0a@x\0')), null);
    assert.equal(parsePlain(Buffer.from('\0a@x\0p\0w')), null);
  });
});
