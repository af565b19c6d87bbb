// STARTTLS command injection probe (CVE-2011-0411 class; RFC 3207 §4.2, RFC 2595 §3.1,
// RFC 9051 §6.2.1: the server must discard anything the client pipelined after the
// STARTTLS command). testssl.sh 3.0.8 has no --SI (it arrived in 3.2), so the gate
// probes each STARTTLS listener itself: the STARTTLS command and one more command are
// sent in a single write, the handshake is completed, and then
//   1. nothing may arrive before the client speaks (an answer to the injected command);
//   2. the first reply to a fresh command inside TLS must be that command's own reply.
// Invariant: any doubt (timeout, closed socket, unexpected reply) is reported as a
// failure with the transcript's reply lines, never as a pass.

import net from 'node:net';
import tls from 'node:tls';

export type StarttlsProtocol = 'smtp' | 'imap' | 'pop3';

interface Script {
  /** Sent before STARTTLS, after the greeting (SMTP needs EHLO). */
  readonly before?: string;
  /** STARTTLS plus the injected command, in one write. */
  readonly starttls: string;
  /** True once the cleartext reply to STARTTLS is complete. */
  readonly ready: (text: string) => boolean;
  /** The fresh command sent inside TLS, and a test that the first reply answers it. */
  readonly probe: string;
  readonly isProbeReply: (firstLine: string) => boolean;
}

const lineDone = (t: string) => /\r\n$/.test(t);
const smtpReplyDone = (t: string) => /(^|\r\n)\d{3} [^\r\n]*\r\n$/.test(t);

const SCRIPTS: Record<StarttlsProtocol, Script> = {
  // EHLO's reply is multi-line ("250-host"); an executed injected NOOP answers "250 " first.
  smtp: {
    before: 'EHLO tls-scan.invalid\r\n',
    starttls: 'STARTTLS\r\nNOOP\r\n',
    ready: (t) => smtpReplyDone(t),
    probe: 'EHLO tls-scan.invalid\r\n',
    isProbeReply: (l) => l.startsWith('250-'),
  },
  // The injected command has tag "inj"; the probe has tag "p1".
  imap: {
    starttls: 's1 STARTTLS\r\ninj CAPABILITY\r\n',
    ready: (t) => /(^|\n)s1 /.test(t),
    probe: 'p1 NOOP\r\n',
    isProbeReply: (l) => l.startsWith('p1 '),
  },
  // CAPA answers "+OK" then a list; the injected NOOP is refused before login with "-ERR".
  pop3: {
    starttls: 'STLS\r\nNOOP\r\n',
    ready: (t) => /(^|\r\n)[+-][^\r\n]*\r\n$/.test(t),
    probe: 'CAPA\r\n',
    isProbeReply: (l) => l.startsWith('+OK'),
  },
};

export interface InjectionResult {
  readonly ok: boolean;
  readonly detail: string;
}

function readUntil(sock: net.Socket | tls.TLSSocket, done: (text: string) => boolean, ms: number) {
  return new Promise<string>((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => finish(new Error(`timeout; got ${JSON.stringify(text)}`)), ms);
    const onData = (b: Buffer) => {
      text += b.toString('latin1');
      if (done(text)) finish(null);
    };
    const onEnd = () => finish(new Error(`connection closed; got ${JSON.stringify(text)}`));
    function finish(err: Error | null) {
      clearTimeout(timer);
      sock.off('data', onData);
      sock.off('end', onEnd);
      sock.off('error', onEnd);
      if (err) reject(err);
      else resolve(text);
    }
    sock.on('data', onData);
    sock.on('end', onEnd);
    sock.on('error', onEnd);
  });
}

/** Probe one STARTTLS listener; `quietMs` is how long an injected reply is waited for. */
export async function probeStarttlsInjection(opts: {
  readonly protocol: StarttlsProtocol;
  readonly port: number;
  readonly servername: string;
  readonly ca: string;
  readonly quietMs?: number;
}): Promise<InjectionResult> {
  const script = SCRIPTS[opts.protocol];
  const raw = net.connect({ host: '127.0.0.1', port: opts.port });
  raw.setNoDelay(true);
  let secure: tls.TLSSocket | null = null;
  try {
    await readUntil(raw, opts.protocol === 'smtp' ? smtpReplyDone : lineDone, 10_000);
    if (script.before !== undefined) {
      raw.write(script.before);
      await readUntil(raw, smtpReplyDone, 10_000);
    }
    raw.write(script.starttls);
    const reply = await readUntil(raw, script.ready, 10_000);
    if (!/^(220|s1 OK|\+OK)/.test(reply)) return { ok: false, detail: `STARTTLS refused: ${reply.trim()}` };
    const tlsSocket = tls.connect({ socket: raw, servername: opts.servername, ca: opts.ca });
    secure = tlsSocket;
    await new Promise<void>((resolve, reject) => {
      tlsSocket.once('secureConnect', () => resolve());
      tlsSocket.once('error', reject);
    });
    // 1. Silence: a server that kept the injected command answers it now, unprompted.
    let unsolicited = '';
    const collect = (b: Buffer) => {
      unsolicited += b.toString('latin1');
    };
    tlsSocket.on('data', collect);
    await new Promise((r) => setTimeout(r, opts.quietMs ?? 1500));
    tlsSocket.off('data', collect);
    if (unsolicited !== '')
      return { ok: false, detail: `injected command answered inside TLS: ${unsolicited.trim()}` };
    // 2. The first reply inside TLS belongs to our fresh command.
    tlsSocket.write(script.probe);
    const answer = await readUntil(tlsSocket, lineDone, 10_000);
    const first = answer.split('\r\n')[0] ?? '';
    if (!script.isProbeReply(first))
      return { ok: false, detail: `first reply inside TLS is not the probe's: ${first}` };
    return { ok: true, detail: 'pipelined command after STARTTLS discarded' };
  } catch (e) {
    return { ok: false, detail: `probe failed: ${(e as Error).message}` };
  } finally {
    secure?.destroy();
    raw.destroy();
  }
}
