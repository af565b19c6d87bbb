// IDLE (RFC 2177, RFC 9051 §6.3.13): after `+ idling` the server reports changes
// to the selected mailbox as they happen (new mail as EXISTS, flag changes as
// FETCH, expunges as EXPUNGE or VANISHED) until the client sends DONE.
// Changes arrive through the store's change feed (server.ts notifies idling
// connections); a poll covers changes made by other processes.

import { define, ok } from '../handler.ts';
import { AUTHENTICATED } from '../session.ts';

const POLL_MS = 2000;

export const IDLE_HANDLERS = [
  ...define('IDLE', {
    states: AUTHENTICATED,
    async run(conn) {
      conn.write('+ idling\r\n');
      await conn.notifyChanges();
      const poll = setInterval(() => void conn.notifyChanges(), POLL_MS);
      try {
        await conn.idle();
        await conn.notifyChanges(); // waits for any notification still in flight
      } finally {
        clearInterval(poll);
      }
      return ok('IDLE terminated');
    },
  }),
];
