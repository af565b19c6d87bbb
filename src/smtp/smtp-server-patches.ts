// Two deliberate changes to smtp-server's SMTPConnection, installed once per process.
// The package version is pinned; smtp-server-patches.test.ts fails if an upgrade
// moves the internals these rely on.
//
// 1. The greeting pause. smtp-server 3.x holds every new connection for a fixed
//    100 ms before the 220 greeting, to catch "early talkers": RFC 5321 §4.3.1 says a
//    client waits for the greeting, and spam engines that pipeline before it are
//    refused with "421 You talk too soon". 100 ms is too short to be a real pregreet
//    test (Postfix's postscreen waits 6 s) yet it adds 100 ms to every connection,
//    which caps a sender that opens a connection per message at 10 messages/s per
//    connection. Sealpost greets at once by default; an operator who wants a real
//    pregreet test sets `mx.greet_pause_ms` (the server option `greetPauseMs`).
//
// 2. Exact enhanced status codes. smtp-server derives the RFC 3463 code from the
//    reply code alone (every 550 becomes 5.1.1, so "relaying denied" would claim
//    "bad destination mailbox"). Our replies carry their own code at the start of the
//    text (see replies.ts); when they do, smtp-server's guess is left out.
//
// 3. No AUTH in the EHLO answer before TLS. smtp-server refuses AUTH before STARTTLS
//    (538) but still advertises it, which invites a client to send its credentials in
//    the same line (SASL initial response). A server created with `hideAuthBeforeTls`
//    leaves the AUTH line out of EHLO until the connection is encrypted (as Postfix's
//    smtpd_tls_auth_only does); the refusal stays as the backstop.

import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';

interface ConnectionInternals {
  _server: {
    options: { maxClients?: number; greetPauseMs?: number; hideAuthBeforeTls?: boolean };
    connections: Set<unknown>;
  };
  secure: boolean;
  _setListeners(callback: () => void): void;
  send(code: number, data?: unknown, context?: string | false): void;
  connectionReady(): void;
  name: string;
}

const ENHANCED = /^[245]\.\d{1,3}\.\d{1,3} /;
let installed = false;

export function installSmtpServerPatches(): void {
  if (installed) return;
  installed = true;
  const proto = SMTPConnection.prototype as unknown as ConnectionInternals & { init(): void };
  if (typeof proto._setListeners !== 'function' || typeof proto.connectionReady !== 'function') {
    throw new Error('smtp-server internals changed: review src/smtp/smtp-server-patches.ts');
  }

  proto.init = function init(this: ConnectionInternals) {
    this._setListeners(() => {
      const { maxClients, greetPauseMs = 0 } = this._server.options;
      if (maxClients && this._server.connections.size > maxClients) {
        this.send(421, `${this.name} Too many connected clients, try again in a moment`, false);
        return;
      }
      if (greetPauseMs <= 0) {
        this.connectionReady();
        return;
      }
      setTimeout(() => this.connectionReady(), greetPauseMs).unref();
    });
  };

  const send = proto.send;
  proto.send = function sendWithOwnCode(this: ConnectionInternals, code, data, context) {
    if (code === 250 && Array.isArray(data) && !this.secure && this._server.options.hideAuthBeforeTls) {
      data = data.filter((line) => !/^AUTH\b/i.test(String(line)));
    }
    if (typeof data === 'string' && ENHANCED.test(data)) return send.call(this, code, data, false);
    return send.call(this, code, data, context);
  };
}
