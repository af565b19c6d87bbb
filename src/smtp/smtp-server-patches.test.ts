import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { installSmtpServerPatches } from './smtp-server-patches.ts';

function firstLine(port: number, early?: string): Promise<{ line: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const s = net.connect(port, '127.0.0.1', () => {
      if (early) s.write(early);
    });
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString();
      const eol = buf.indexOf('\r\n');
      if (eol >= 0) {
        resolve({ line: buf.slice(0, eol), ms: performance.now() - t });
        s.destroy();
      }
    });
    s.on('error', reject);
  });
}

describe('greeting pause', () => {
  const servers: SMTPServer[] = [];
  const ports: number[] = [];
  before(async () => {
    installSmtpServerPatches();
    for (const greetPauseMs of [0, 400]) {
      const s = new SMTPServer({
        logger: false,
        disabledCommands: ['STARTTLS', 'AUTH'],
        greetPauseMs,
      } as never);
      await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
      servers.push(s);
      ports.push((s.server.address() as net.AddressInfo).port);
    }
  });
  after(async () => {
    for (const s of servers) await new Promise<void>((r) => s.close(() => r()));
  });

  it('greets without the library default 100 ms hold when the pause is 0', async () => {
    const { line, ms } = await firstLine(ports[0]!);
    assert.match(line, /^220 /);
    assert.ok(ms < 90, `greeting after ${ms.toFixed(1)} ms`);
  });

  it('with a pause, holds the greeting and refuses a client that talks first', async () => {
    const polite = await firstLine(ports[1]!);
    assert.match(polite.line, /^220 /);
    assert.ok(polite.ms >= 380, `held for ${polite.ms.toFixed(0)} ms`);
    const early = await firstLine(ports[1]!, 'EHLO spammer.example\r\n');
    assert.match(early.line, /^421 .*talk too soon/);
  });
});
