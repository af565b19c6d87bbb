// Encryption at rest, checked from the outside: marker text sent in a message's
// subject, addresses and body appears in no file of the data directory in any common
// encoding; sealed values swapped between rows or accounts are integrity errors, for
// bodies kept inline in the database and for those large enough to be kept in files.

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
/** Over the store's inline limit (128 KiB of sealed bytes): such a body is kept in a file. */
const LARGE_BODY = `Large body line with ${MARKER} inside.\n`.repeat(5500); // 203,500 bytes

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
    // One large message each, delivered after the small ones (UID 3).
    for (const to of ['alice@sealpost.test', 'bob@sealpost.test']) {
      await t.sendMail({
        envelope: { from: `${MARKER.toLowerCase()}@sender.example`, to },
        from: `"${MARKER} Sender" <${MARKER.toLowerCase()}@sender.example>`,
        to,
        subject: `Large ${MARKER}`,
        text: LARGE_BODY,
      });
    }
  });

  after(async () => {
    await srv.server.stop();
    await inst.cleanup();
  });

  it('the messages were stored and read back intact', async () => {
    const inbox = await readMailbox(inst, 'alice@sealpost.test');
    assert.equal(inbox.length, 3);
    assert.ok(inbox[0]!.raw.includes(MARKER), 'plaintext comes back through the keys');
    assert.match(inbox[0]!.summary.subject, new RegExp(MARKER));
    const line = `Large body line with ${MARKER} inside.`;
    const unfolded = inbox[2]!.raw.replace(/=\r\n/g, ''); // quoted-printable soft line breaks
    assert.equal(unfolded.split(line).length - 1, 5500, 'the large body comes back whole');
    assert.ok(inbox[2]!.raw.length > 200_000, `large message is ${inbox[2]!.raw.length} bytes`);
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
    const [a1, a2, a3] = await inboxOf(alice.id);
    const [b1, b2, b3] = await inboxOf(bob.id);
    await rt.close();

    const db = new DatabaseSync(path.join(inst.dir, 'sealpost.db'));
    const swap = (table: string, key: string, col: string, x: string, y: string) => {
      const get = db.prepare(`SELECT ${col} AS v FROM ${table} WHERE ${key} = ?`);
      const vx = (get.get(x) as { v: Uint8Array }).v;
      const vy = (get.get(y) as { v: Uint8Array }).v;
      const set = db.prepare(`UPDATE ${table} SET ${col} = ? WHERE ${key} = ?`);
      set.run(vy, x);
      set.run(vx, y);
    };
    const inline = (ref: string) =>
      db.prepare('SELECT 1 AS x FROM blob WHERE ref = ?').get(ref) !== undefined;
    // The small bodies are rows of the blob table, the large ones are not (they are files).
    assert.deepEqual(
      [a2, b2, a3, b3].map((m) => inline(m!.blobRef)),
      [true, true, false, false],
    );
    // Each message is hit by one swap only, so each failure below is that swap's.
    swap('message', 'id', 'sealed_meta', a1!.id, a2!.id); // between rows of one account
    swap('message', 'id', 'wrapped_key', a1!.id, b1!.id); // between accounts
    swap('blob', 'ref', 'data', a2!.blobRef, b2!.blobRef); // inline bodies, between accounts
    db.close();
    // Swap the two large bodies' files on disk.
    const blobFiles = [...files(path.join(inst.dir, 'blobs'))];
    const blobPath = (ref: string) => {
      const found = blobFiles.filter((f) => path.basename(f) === ref);
      assert.equal(found.length, 1, `one file for ${ref}`);
      return found[0]!;
    };
    const pa3 = blobPath(a3!.blobRef);
    const pb3 = blobPath(b3!.blobRef);
    renameSync(pa3, `${pa3}.x`);
    renameSync(pb3, pa3);
    renameSync(`${pa3}.x`, pb3);

    const rt2 = await openStore(inst);
    try {
      const deps = {
        store: rt2.store,
        accountKeys: new AccountKeys(rt2.store, rt2.keys, async () => rt2.keys),
      };
      const [m1, m2, m3] = await rt2.store.listMessages((await rt2.store.getMailbox(alice.id, 'INBOX'))!.id);
      const [n1, n2, n3] = await rt2.store.listMessages((await rt2.store.getMailbox(bob.id, 'INBOX'))!.id);
      await assert.rejects(readSummary(deps, m2!), IntegrityError, 'meta swapped within an account');
      await assert.rejects(readRaw(deps, m1!), IntegrityError, 'data key from another account');
      await assert.rejects(readRaw(deps, n1!), IntegrityError, 'data key swapped in');
      await assert.rejects(readRaw(deps, m2!), IntegrityError, 'inline blob from another account');
      await assert.rejects(readRaw(deps, n2!), IntegrityError, 'inline blob swapped in');
      await assert.rejects(readRaw(deps, m3!), IntegrityError, 'blob file from another account');
      await assert.rejects(readRaw(deps, n3!), IntegrityError, 'blob file swapped in');
      // The keys of the rows whose bodies were swapped still work: the failures above are the swaps.
      assert.match((await readSummary(deps, n2!)).subject, new RegExp(MARKER));
      assert.match((await readSummary(deps, m3!)).subject, /^Large /);
      assert.match((await readSummary(deps, n3!)).subject, /^Large /);
    } finally {
      await rt2.close();
    }
    srv = await startInProcess(inst);
  });
});
