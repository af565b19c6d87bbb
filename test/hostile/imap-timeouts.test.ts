// The IMAP idle timeout after login (RFC 9051 §5.4): a logged-in client that says
// nothing for idle_timeout_seconds is told `* BYE` and disconnected. Its own file so
// the minute it takes runs beside the other tests.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { imapPort, RawImap } from '../support/imap.ts';
import { type InProcess, type Installation, install, startInProcess } from '../support/server.ts';
import { useWatchdog } from '../support/watchdog.ts';

describe('IMAP idle timeout', () => {
  let inst: Installation;
  let srv: InProcess;

  before(async () => {
    inst = await install({ env: { SEALPOST_IMAP_IDLE_TIMEOUT_SECONDS: '60' } });
    srv = await startInProcess(inst);
  });
  useWatchdog('imap timeouts');

  after(async () => {
    await srv.server.stop();
    await inst.cleanup();
  });

  it('ends a silent logged-in session after idle_timeout_seconds, and not before', {
    timeout: 120_000,
  }, async () => {
    const c = await RawImap.connect(imapPort(srv.server));
    await c.login();
    const started = Date.now();
    await new Promise((r) => setTimeout(r, 50_000));
    assert.equal(c.closed, false, 'closed before the timeout');
    await c.until(/^\* BYE .*idle/i, 30_000);
    await c.closedByServer();
    const after = (Date.now() - started) / 1000;
    assert.ok(after >= 59 && after < 75, `closed after ${after} s`);
  });
});
