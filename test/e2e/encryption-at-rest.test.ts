// Encryption at rest, checked from the outside: marker text sent in a message's
// subject, addresses and body appears in no file of the data directory in any common
// encoding; sealed values swapped between rows or accounts are integrity errors.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, it } from 'node:test';
import nodemailer from 'nodemailer';
import { IntegrityError } from '../../src/core/errors.ts';
import { AccountKeys } from '../../src/mail/account-keys.ts';
import { readRaw, readSummary } from '../../src/mail/read.ts';
import { readMailbox } from '../support/mailbox.ts';
import { type InProcess, type Installation, install, openStore, startInProcess } from '../support/server.ts';

const MARKER = 'Zq7MarkerXv9Tq';

/** Every byte pattern the marker could take in a file if it were stored unsealed. */
function encodings(marker: string): Buffer[] {
  const out = [
    Buffer.from(marker, 'utf8'),
    Buffer.from(marker.toLowerCase(), 'utf8'),
    Buffer.from(marker, 'utf16le'),
  ];
  const be = Buffer.from(marker, 'utf16le');
  be.swap16();
  out.push(be);
  // base64 at each of the three alignments: keep the part that does not depend on neighbours.
  for (let shift = 0; shift < 3; shift++) {
    const b64 = Buffer.from('\0'.repeat(shift) + marker).toString('base64');
    const start = Math.ceil((shift * 4) / 3) + 1;
    out.push(Buffer.from(b64.slice(start, start + 12), 'latin1'));
  }
  // quoted-printable of the marker with a non-ASCII neighbour (=C3=A9 style encodings keep ASCII as is).
  out.push(
    Buffer.from(`=${Buffer.from(marker).toString('hex').toUpperCase().match(/../g)!.join('=')}`, 'latin1'),
  );
  return out;
}

function* files(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* files(p);
    else if (entry.isFile()) yield p;
  }
}

describe('encryption at rest', () => {
  let inst: Installation;
  let srv: InProcess;

  before(async () => {
    inst = await install({ users: ['alice@sealpost.test', 'bob@sealpost.test'] });
    srv = await startInProcess(inst);
    const t = nodemailer.createTransport({
      host: '127.0.0.1',
      port: srv.mxPort,
      tls: { rejectUnauthorized: false },
    });
    for (const to of ['alice@sealpost.test', 'bob@sealpost.test']) {
      for (let i = 0; i < 2; i++) {
        await t.sendMail({
          envelope: { from: `${MARKER.toLowerCase()}@sender.example`, to },
          from: `"${MARKER} Sender" <${MARKER.toLowerCase()}@sender.example>`,
          to,
          cc: `${MARKER.toLowerCase()}.cc@elsewhere.example`,
          subject: `Subject ${MARKER} number ${i}`,
          text: `Body line with ${MARKER} inside.\n`.repeat(20),
          html: `<p>${MARKER}</p>`,
          attachments: [{ filename: 'a.txt', content: `attachment ${MARKER}` }],
        });
      }
    }
  });

  after(async () => {
    await srv.server.stop();
    await inst.cleanup();
  });

  it('the messages were stored and read back intact', async () => {
    const inbox = await readMailbox(inst, 'alice@sealpost.test');
    assert.equal(inbox.length, 2);
    assert.ok(inbox[0]!.raw.includes(MARKER), 'plaintext comes back through the keys');
    assert.match(inbox[0]!.summary.subject, new RegExp(MARKER));
  });

  it('no file in the data directory holds the marker in any common encoding', async () => {
    await srv.server.stop(); // flush and close the database, as a stolen disk would be
    const patterns = encodings(MARKER);
    let scanned = 0;
    for (const file of files(inst.dir)) {
      if (statSync(file).size === 0) continue;
      const bytes = readFileSync(file);
      scanned++;
      for (const p of patterns) {
        assert.equal(
          bytes.indexOf(p),
          -1,
          `${path.relative(inst.dir, file)} contains ${JSON.stringify(p.toString('latin1'))}`,
        );
      }
    }
    assert.ok(scanned >= 5, `scanned the database and blobs (${scanned} files)`);
    srv = await startInProcess(inst);
  });

  it('detects sealed values swapped between rows and between accounts', async () => {
    await srv.server.stop();
    const rt = await openStore(inst);
    const alice = (await rt.store.getAccountByAddress('alice@sealpost.test'))!;
    const bob = (await rt.store.getAccountByAddress('bob@sealpost.test'))!;
    const inboxOf = async (id: string) => rt.store.listMessages((await rt.store.getMailbox(id, 'INBOX'))!.id);
    const [a1, a2] = await inboxOf(alice.id);
    const [b1] = await inboxOf(bob.id);
    await rt.close();

    const db = new DatabaseSync(path.join(inst.dir, 'sealpost.db'));
    const swap = (col: string, x: string, y: string) => {
      const get = db.prepare(`SELECT ${col} AS v FROM message WHERE id = ?`);
      const vx = (get.get(x) as { v: Uint8Array }).v;
      const vy = (get.get(y) as { v: Uint8Array }).v;
      const set = db.prepare(`UPDATE message SET ${col} = ? WHERE id = ?`);
      set.run(vy, x);
      set.run(vx, y);
    };
    swap('sealed_meta', a1!.id, a2!.id); // between rows of one account
    swap('wrapped_key', a1!.id, b1!.id); // between accounts
    db.close();
    // Swap two blob files on disk too.
    const blobPath = (ref: string) =>
      [...files(path.join(inst.dir, 'blobs'))].find((f) => path.basename(f).startsWith(ref))!;
    const pa2 = blobPath(a2!.blobRef);
    const pb1 = blobPath(b1!.blobRef);
    renameSync(pa2, `${pa2}.x`);
    renameSync(pb1, pa2);
    renameSync(`${pa2}.x`, pb1);

    const rt2 = await openStore(inst);
    try {
      const deps = {
        blobs: rt2.blobs,
        accountKeys: new AccountKeys(rt2.store, rt2.keys, async () => rt2.keys),
      };
      const [m1, m2] = await rt2.store.listMessages((await rt2.store.getMailbox(alice.id, 'INBOX'))!.id);
      const [n1] = await rt2.store.listMessages((await rt2.store.getMailbox(bob.id, 'INBOX'))!.id);
      await assert.rejects(readSummary(deps, m2!), IntegrityError, 'meta swapped within an account');
      await assert.rejects(readSummary(deps, m1!), IntegrityError, 'data key from another account');
      await assert.rejects(readRaw(deps, m2!), IntegrityError, 'blob from another account');
      await assert.rejects(readRaw(deps, n1!), IntegrityError, 'blob swapped in');
    } finally {
      await rt2.close();
    }
    srv = await startInProcess(inst);
  });
});
