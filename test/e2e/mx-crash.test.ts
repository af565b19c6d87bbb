// Durability: the server is killed with SIGKILL in the middle of a 1,000-message
// ingest. After a restart, every message that got a 250 is stored, exactly once.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readMailbox } from '../support/mailbox.ts';
import { type Child, freePort, type Installation, install, startChild } from '../support/server.ts';
import { message, RawSmtp } from '../support/smtp-raw.ts';

const TOTAL = 1000;
const CONNECTIONS = 10;
const KILL_AFTER = 400;

describe('crash during ingest', () => {
  let inst: Installation;
  let child: Child;

  before(async () => {
    inst = await install();
    child = await startChild(inst, await freePort());
  });
  after(async () => {
    await child.stop();
    await inst.cleanup();
  });

  it('keeps every acknowledged message exactly once after kill -9', async () => {
    const acked = new Set<string>();
    let next = 0;
    let killed = false;
    const worker = async () => {
      let c: RawSmtp | null = null;
      try {
        c = (await RawSmtp.connect(child.mxPort)).client;
        await c.cmd('EHLO load.example.org');
        while (next < TOTAL) {
          const id = `<crash-${next++}@example.org>`;
          if ((await c.cmd('MAIL FROM:<load@example.org>')).code !== 250) break;
          if ((await c.cmd('RCPT TO:<alice@sealpost.test>')).code !== 250) break;
          if ((await c.cmd('DATA')).code !== 354) break;
          const data = message({ subject: id, body: 'x'.repeat(2000) }).replace(
            /^Message-ID: .*$/m,
            `Message-ID: ${id}`,
          );
          const r = await c.cmd(`${data}.`);
          if (r.code === 250) acked.add(id);
          else break;
          if (!killed && acked.size >= KILL_AFTER) {
            killed = true;
            child.process.kill('SIGKILL');
          }
        }
      } catch {
        // the connection died with the server: expected
      } finally {
        c?.close();
      }
    };
    await Promise.all(Array.from({ length: CONNECTIONS }, worker));
    assert.ok(killed, 'the server was killed mid-ingest');
    const p = child.process;
    if (p.exitCode === null && p.signalCode === null) await new Promise((r) => p.once('exit', r));
    assert.equal(p.signalCode, 'SIGKILL');

    child = await startChild(inst, child.mxPort); // restart: recovery must succeed
    const stored = (await readMailbox(inst, 'alice@sealpost.test')).map((m) => m.summary.messageId);
    const counts = new Map<string, number>();
    for (const id of stored) counts.set(id!, (counts.get(id!) ?? 0) + 1);
    for (const id of acked) assert.equal(counts.get(id), 1, `${id} was acknowledged and must be stored once`);
    assert.ok(acked.size >= KILL_AFTER, `acknowledged ${acked.size}`);
    for (const [id, n] of counts) assert.equal(n, 1, `${id} stored ${n} times`);
  });
});
