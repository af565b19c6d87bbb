// Tests for the benchmark's IMAP client: response framing with literals split across reads
// (RFC 9051 §4.3), quoting, and one session against a scripted server over a real socket.

import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';
import { ImapClient, quote, ResponseReader } from './imap-client.ts';

describe('ResponseReader', () => {
  it('joins a line around a literal and counts its octets, whatever the chunking', () => {
    const wire = Buffer.from('* 1 FETCH (UID 7 BODY[] {11}\r\nab\r\ncd{3}\r\n)\r\nA1 OK done\r\n', 'latin1');
    for (let size = 1; size <= wire.length; size++) {
      const reader = new ResponseReader();
      const lines = [];
      for (let i = 0; i < wire.length; i += size) lines.push(...reader.feed(wire.subarray(i, i + size)));
      assert.deepEqual(lines, [
        { line: '* 1 FETCH (UID 7 BODY[] )', literalBytes: 11 },
        { line: 'A1 OK done', literalBytes: 0 },
      ]);
    }
  });

  it('keeps a partial line until its CRLF arrives', () => {
    const reader = new ResponseReader();
    assert.deepEqual(reader.feed(Buffer.from('* 3 EXI')), []);
    assert.deepEqual(reader.feed(Buffer.from('STS\r\n')), [{ line: '* 3 EXISTS', literalBytes: 0 }]);
  });
});

describe('quote', () => {
  it('escapes backslash and double quote', () => {
    assert.equal(quote('a"b\\c'), '"a\\"b\\\\c"');
  });
});

describe('ImapClient', () => {
  it('sends a synchronizing literal after "+", tracks EXISTS and reads the response code', async () => {
    const received: string[] = [];
    const server = net.createServer((s) => {
      s.write('* OK ready\r\n');
      let buf = '';
      s.on('data', (d) => {
        buf += d.toString('latin1');
        if (buf === 'A1 APPEND INBOX {5}\r\n') s.write('+ go\r\n');
        if (buf.endsWith('hello\r\n')) {
          received.push(buf);
          s.write('* 4 EXISTS\r\n* 2 EXPUNGE\r\nA1 OK [APPENDUID 9 41] done\r\n');
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as net.AddressInfo;
    const c = await ImapClient.connect({ host: '127.0.0.1', port, tls: false });
    const r = await c.command('APPEND INBOX ', Buffer.from('hello'));
    assert.equal(r.status, 'OK');
    assert.equal(r.code, 'APPENDUID 9 41');
    assert.equal(c.exists, 3);
    assert.deepEqual(received, ['A1 APPEND INBOX {5}\r\nhello\r\n']);
    c.close();
    server.close();
  });
});
