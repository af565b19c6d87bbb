// The web listener's own limits: connections per address are refused before the TLS
// handshake, and only the configured public origin may log in (web.origin, for a
// server behind a reverse proxy or under another name).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import { HOSTNAME, type InProcess, type Installation, install, startInProcess } from '../support/server.ts';
import { useWatchdog } from '../support/watchdog.ts';
import { Browser } from '../support/web.ts';

process.env['NODE_TLS_REJECT_UNAUTHORIZED'] = '0';

const PUBLIC = 'https://mail.example.test';

describe('web listener limits and origin', () => {
  let inst: Installation;
  let srv: InProcess;
  let port: number;

  before(async () => {
    inst = await install({
      env: { SEALPOST_WEB_MAX_CONNECTIONS_PER_ADDRESS: '3', SEALPOST_WEB_ORIGIN: PUBLIC },
    });
    srv = await startInProcess(inst);
    port = srv.server.listening.find((l) => l.role === 'web')!.port;
  });
  useWatchdog('web');
  after(async () => {
    await srv.server.stop();
    await inst.cleanup();
  });

  it('refuses a connection over the per-address limit before the handshake', async () => {
    const open = async () =>
      new Promise<tls.TLSSocket | null>((resolve) => {
        const s = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false });
        s.once('secureConnect', () => resolve(s));
        s.once('error', () => resolve(null));
        s.once('close', () => resolve(null));
      });
    const kept = [await open(), await open(), await open()];
    assert.ok(kept.every((s) => s !== null));
    assert.equal(await open(), null, 'the fourth connection from one address is refused');
    for (const s of kept) s?.destroy();
    await new Promise((r) => setTimeout(r, 200));
    const again = await open();
    assert.ok(again !== null, 'a slot freed by a closed connection can be used again');
    again?.destroy();
  });

  it('accepts logins only from the configured public origin', async () => {
    const base = `https://127.0.0.1:${port}`;
    const fromPublic = await new Browser(base, PUBLIC).login('alice@sealpost.test');
    assert.equal(fromPublic.status, 200, JSON.stringify(fromPublic.json));
    const fromDerived = await new Browser(base, `https://${HOSTNAME}:${port}`).login('alice@sealpost.test');
    assert.equal(fromDerived.status, 403);
  });
});
