// The greeting delay of smtp-server, made a deliberate, per-server choice.
//
// smtp-server 3.x holds every new connection for a fixed 100 ms before the 220
// greeting, to catch "early talkers": RFC 5321 §4.3.1 says a client waits for the
// greeting, and spam engines that pipeline before it are refused with "421 You talk
// too soon". 100 ms is too short to be a real pregreet test (Postfix's postscreen
// waits 6 s) yet it adds 100 ms to every connection, which caps a sender that opens a
// connection per message at 10 messages/s per connection. Sealpost greets at once by
// default and lets an operator ask for a real pause with `mx.greet_pause_ms`.
//
// This replaces SMTPConnection#init (same body as 3.21.6, the pause made a server
// option). The package version is pinned; greet-pause.test.ts fails if it changes
// in a way that breaks this.

import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';

interface ConnectionInternals {
  _server: { options: { maxClients?: number; greetPauseMs?: number }; connections: Set<unknown> };
  _setListeners(callback: () => void): void;
  send(code: number, text: string, command: false): void;
  connectionReady(): void;
  name: string;
}

let installed = false;

export function installGreetPause(): void {
  if (installed) return;
  installed = true;
  const proto = SMTPConnection.prototype as unknown as ConnectionInternals & { init(): void };
  if (typeof proto._setListeners !== 'function' || typeof proto.connectionReady !== 'function') {
    throw new Error('smtp-server internals changed: review src/smtp/greet-pause.ts');
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
}
