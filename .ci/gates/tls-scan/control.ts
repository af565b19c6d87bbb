// Control listeners with known flaws, scanned beside Sealpost in every gate run so the
// gate proves it still catches what it is meant to catch with this testssl.sh version
// (a changed report format must not turn into a silent pass):
//   - a bare Node.js TLS server (no Sealpost policy): TLS 1.0/1.1 enabled, OpenSSL's
//     default suites at security level 0 with an RSA key (RSA key transport, CBC), and
//     Node's default client-initiated renegotiation, which testssl rates MEDIUM;
//   - a naive SMTP STARTTLS server that keeps the bytes pipelined after STARTTLS and
//     executes them inside TLS (the CVE-2011-0411 flaw the injection probe looks for).
// Both listen on 127.0.0.1, port 0, and are closed by close().

import net from 'node:net';
import tls from 'node:tls';

export interface ControlServers {
  readonly barePort: number;
  readonly naiveStarttlsPort: number;
  close(): Promise<void>;
}

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
  });
}

/** Answers each complete SMTP line; leftover bytes are kept across STARTTLS (the flaw). */
function naiveSmtp(raw: net.Socket, context: tls.SecureContext): void {
  let out: net.Socket = raw;
  let buffer = '';
  let upgraded = false;
  const onLine = (line: string) => {
    const verb = line.split(' ')[0]?.toUpperCase() ?? '';
    if (verb === 'EHLO')
      out.write(`250-control.sealpost.test\r\n${upgraded ? '' : '250-STARTTLS\r\n'}250 8BITMIME\r\n`);
    else if (verb === 'STARTTLS' && !upgraded) {
      out.write('220 2.0.0 go ahead\r\n');
      upgraded = true;
      raw.removeListener('data', onData);
      const secure = new tls.TLSSocket(raw, { isServer: true, secureContext: context });
      secure.on('error', () => secure.destroy());
      out = secure;
      secure.on('data', onData);
      // The flaw: lines read before the handshake are processed as if sent inside TLS.
      secure.once('secure', () => drain());
      return 'stop';
    } else if (verb === 'QUIT') out.end('221 2.0.0 bye\r\n');
    else out.write('250 2.0.0 OK\r\n');
    return 'go';
  };
  const drain = () => {
    for (let i = buffer.indexOf('\r\n'); i >= 0; i = buffer.indexOf('\r\n')) {
      const line = buffer.slice(0, i);
      buffer = buffer.slice(i + 2);
      if (onLine(line) === 'stop') return;
    }
  };
  const onData = (b: Buffer) => {
    buffer += b.toString('latin1');
    if (out === raw || upgraded) drain();
  };
  raw.on('error', () => raw.destroy());
  raw.on('data', onData);
  raw.write('220 control.sealpost.test ESMTP\r\n');
}

export async function startControlServers(tlsFiles: {
  readonly ecdsa: { cert: string; key: string };
  readonly rsa: { cert: string; key: string };
}): Promise<ControlServers> {
  const sockets = new Set<net.Socket>();
  const track = (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  };
  // Deliberately NOT built from src/tls/policy.ts: this is what the gate must reject.
  const bare = tls.createServer(
    { cert: tlsFiles.rsa.cert, key: tlsFiles.rsa.key, minVersion: 'TLSv1', ciphers: 'DEFAULT:@SECLEVEL=0' },
    (s) => {
      // Stays open (as a real server would) so a client can ask to renegotiate.
      s.on('error', () => s.destroy());
      s.setTimeout(30_000, () => s.destroy());
      s.write('hello\r\n');
    },
  );
  bare.on('connection', track);
  const context = tls.createSecureContext({ cert: tlsFiles.ecdsa.cert, key: tlsFiles.ecdsa.key });
  const naive = net.createServer((s) => naiveSmtp(s, context));
  naive.on('connection', track);
  const barePort = await listen(bare);
  const naiveStarttlsPort = await listen(naive);
  return {
    barePort,
    naiveStarttlsPort,
    async close() {
      for (const s of sockets) s.destroy();
      await Promise.all([bare, naive].map((srv) => new Promise((r) => srv.close(() => r(undefined)))));
    },
  };
}
