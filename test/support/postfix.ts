// A private Postfix from Debian, with OpenDKIM as its verifying milter: an independent
// receiver for interoperability tests (issue 5). Nothing of the system's own instance is
// used or changed: the configuration, queue, data, Maildirs and log live in one temp dir,
// and /etc/postfix is never written.
//
// - Postfix's smtpd listens on one address and port only (master.cf `ADDRESS:PORT`; the
//   address is declared in proxy_interfaces, as it is no interface of the machine), offers
//   STARTTLS with a self-signed certificate (smtpd_tls_security_level = may) and logs the
//   handshake (smtpd_tls_loglevel = 1). Mail for the test domain is delivered by the
//   `virtual` agent into one Maildir per listed user; any other recipient of that domain is
//   refused at RCPT (550 5.1.1), and every other domain is refused too (no relaying).
//   Postfix sends nothing out: default and relay transports are `error`, no notices.
// - OpenDKIM runs in the foreground in verify-only mode (Mode v) as the milter of smtpd and
//   adds an Authentication-Results header field. Its resolver is libunbound, configured with
//   a file (ResolverConfiguration) that forwards every query to the test's DNS server, on any
//   port (`forward-addr: IP@PORT`). Unbound answers names under `test.` itself by default
//   (RFC 6761 special-use names are local zones), so that zone is told `nodefault`, and
//   forwarding to a loopback address is allowed (`do-not-query-localhost: no`).
// - Starting Postfix needs root (the postfix(1) command is reserved for the superuser).
// - stop() stops Postfix and OpenDKIM, waits until their processes are gone (a forced kill
//   after a bounded wait), and removes the temp dir.

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import {
  accessSync,
  chmodSync,
  chownSync,
  constants,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { selfSignedCertificate } from './https-server.ts';

const run = promisify(execFile);

export const POSTFIX = '/usr/sbin/postfix';
export const OPENDKIM = '/usr/sbin/opendkim';
const NOBODY = 65534; // virtual deliveries run as nobody:nogroup

/** Why the Postfix receiver cannot run here, or null when it can. */
export function postfixUnavailable(): string | null {
  for (const bin of [POSTFIX, OPENDKIM]) {
    try {
      accessSync(bin, constants.X_OK);
    } catch {
      return `${bin} is not installed (Debian packages postfix, opendkim; .ci/run installs them)`;
    }
  }
  if (process.getuid?.() !== 0)
    return 'starting Postfix needs root (the postfix command is for the superuser)';
  return null;
}

export interface PostfixOptions {
  /** The address smtpd listens on, e.g. 127.0.0.4. */
  readonly address: string;
  readonly port: number;
  /** The name smtpd greets with, e.g. mx.postfix.test. */
  readonly hostname: string;
  /** The one domain delivered here. */
  readonly domain: string;
  /** Local parts with a Maildir; other recipients of the domain are unknown users. */
  readonly users: readonly string[];
  /** The DNS server OpenDKIM fetches keys from. */
  readonly dns: { readonly address: string; readonly port: number };
}

export interface PostfixReceiver {
  readonly dir: string;
  /** The messages in a user's Maildir/new, oldest first, as Postfix wrote them (LF line ends). */
  messages(user: string): string[];
  /** Postfix's log (its postlogd writes it, so lines may lag a moment behind events). */
  log(): string;
  /** OpenDKIM's output (stderr/stdout). */
  milterOutput(): string;
  stop(): Promise<void>;
}

function mainCf(base: string, o: PostfixOptions, milterPort: number): string {
  return `compatibility_level = 3.6
queue_directory = ${base}/spool
data_directory = ${base}/data
myhostname = ${o.hostname}
mydomain = ${o.domain}
myorigin = $myhostname
inet_interfaces = loopback-only
inet_protocols = ipv4
proxy_interfaces = ${o.address}
mynetworks = 127.0.0.1/32
mydestination =
relay_domains =
local_recipient_maps =
alias_maps =
alias_database =
append_dot_mydomain = no
biff = no
notify_classes =
default_transport = error:this test instance sends nothing
relay_transport = error:this test instance relays nothing
smtp_dns_support_level = disabled
smtpd_peername_lookup = no
smtpd_relay_restrictions = reject_unauth_destination
virtual_mailbox_domains = ${o.domain}
virtual_mailbox_base = ${base}/mail
virtual_mailbox_maps = texthash:${base}/etc/vmailbox
virtual_uid_maps = static:${NOBODY}
virtual_gid_maps = static:${NOBODY}
smtpd_tls_security_level = may
smtpd_tls_chain_files = ${base}/etc/tls.pem
smtpd_tls_loglevel = 1
smtpd_tls_received_header = yes
smtpd_milters = inet:127.0.0.1:${milterPort}
non_smtpd_milters =
milter_default_action = tempfail
syslog_name = postfix-sealpost-test
maillog_file = ${base}/maillog
maillog_file_prefixes = ${base}
`;
}

// Debian's master.cf, less the examples: chroot off everywhere, smtpd on one address only.
function masterCf(o: PostfixOptions): string {
  return `${o.address}:${o.port} inet n - n - - smtpd
pickup     unix n - n 60 1 pickup
cleanup    unix n - n - 0 cleanup
qmgr       unix n - n 300 1 qmgr
tlsmgr     unix - - n 1000? 1 tlsmgr
rewrite    unix - - n - - trivial-rewrite
bounce     unix - - n - 0 bounce
defer      unix - - n - 0 bounce
trace      unix - - n - 0 bounce
verify     unix - - n - 1 verify
flush      unix n - n 1000? 0 flush
proxymap   unix - - n - - proxymap
proxywrite unix - - n - 1 proxymap
smtp       unix - - n - - smtp
relay      unix - - n - - smtp
showq      unix n - n - - showq
error      unix - - n - - error
retry      unix - - n - - error
discard    unix - - n - - discard
virtual    unix - n n - - virtual
anvil      unix - - n - 1 anvil
scache     unix - - n - 1 scache
postlog    unix-dgram n - n - 1 postlogd
`;
}

function opendkimConf(o: PostfixOptions, base: string, milterPort: number): string {
  return `Mode v
Background no
Syslog no
Socket inet:${milterPort}@127.0.0.1
AuthservID ${o.hostname}
ResolverConfiguration ${base}/etc/unbound.conf
`;
}

function unboundConf(dns: PostfixOptions['dns']): string {
  return `server:
  do-not-query-localhost: no
  local-zone: "test." nodefault
forward-zone:
  name: "."
  forward-addr: ${dns.address}@${dns.port}
`;
}

async function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function waitListening(host: string, port: number, what: string, detail: () => string): Promise<void> {
  const end = Date.now() + 15_000;
  while (!(await canConnect(host, port))) {
    if (Date.now() > end) throw new Error(`${what} did not listen on ${host}:${port}:\n${detail()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** A process is gone once /proc has no entry for it or it is a zombie nobody has reaped yet. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

async function waitGone(pid: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (alive(pid)) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

function layout(base: string, o: PostfixOptions, milterPort: number, tlsPem: string): void {
  chmodSync(base, 0o755); // Postfix's daemons run as the postfix user and walk into it
  for (const d of ['etc', 'spool', 'data', 'mail']) mkdirSync(path.join(base, d));
  const postfixUser = postfixIds();
  chownSync(path.join(base, 'data'), postfixUser.uid, postfixUser.gid);
  const vmailbox: string[] = [];
  for (const user of o.users) {
    for (const sub of ['tmp', 'new', 'cur'])
      mkdirSync(path.join(base, 'mail', o.domain, user, sub), { recursive: true });
    vmailbox.push(`${user}@${o.domain} ${o.domain}/${user}/`);
  }
  for (const p of walk(path.join(base, 'mail'))) chownSync(p, NOBODY, NOBODY);
  const etc = path.join(base, 'etc');
  writeFileSync(path.join(etc, 'vmailbox'), `${vmailbox.join('\n')}\n`);
  writeFileSync(path.join(etc, 'tls.pem'), tlsPem, { mode: 0o600 });
  writeFileSync(path.join(etc, 'main.cf'), mainCf(base, o, milterPort));
  writeFileSync(path.join(etc, 'master.cf'), masterCf(o));
  writeFileSync(path.join(etc, 'opendkim.conf'), opendkimConf(o, base, milterPort));
  writeFileSync(path.join(etc, 'unbound.conf'), unboundConf(o.dns));
}

function walk(dir: string): string[] {
  const out = [dir];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p));
    else out.push(p);
  }
  return out;
}

function postfixIds(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postfix:'));
  const fields = line?.split(':');
  if (fields === undefined) throw new Error('no postfix user in /etc/passwd');
  return { uid: Number(fields[2]), gid: Number(fields[3]) };
}

/** Starts OpenDKIM and a private Postfix; stop() ends both and removes every file. */
export async function startPostfix(o: PostfixOptions): Promise<PostfixReceiver> {
  const base = mkdtempSync(path.join(tmpdir(), 'sealpost-postfix-'));
  const conf = path.join(base, 'etc');
  const maillog = path.join(base, 'maillog');
  const log = () => (existsSync(maillog) ? readFileSync(maillog, 'utf8') : '');
  let milter: ChildProcess | undefined;
  let milterOut = '';
  let started = false;

  const stop = async (): Promise<void> => {
    if (started) {
      started = false;
      const pidFile = path.join(base, 'spool', 'pid', 'master.pid');
      const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : 0;
      await run(POSTFIX, ['-c', conf, 'stop']).catch(() => undefined);
      if (pid > 0 && !(await waitGone(pid, 10_000))) {
        // the master leads its own process group: end it and every daemon it started
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
        await waitGone(pid, 2_000);
      }
    }
    if (milter?.pid !== undefined && milter.exitCode === null && milter.signalCode === null) {
      const exited = new Promise<void>((resolve) => milter?.once('exit', () => resolve()));
      milter.kill('SIGTERM');
      const timer = setTimeout(() => milter?.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(base, { recursive: true, force: true });
  };

  try {
    const milterPort = await freeLoopbackPort();
    const cert = await selfSignedCertificate([o.hostname]);
    layout(base, o, milterPort, `${cert.keyPem}${cert.certPem}`);

    milter = spawn(OPENDKIM, ['-f', '-x', path.join(conf, 'opendkim.conf')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    milter.stdout?.on('data', (b: Buffer) => (milterOut += b.toString()));
    milter.stderr?.on('data', (b: Buffer) => (milterOut += b.toString()));
    await waitListening('127.0.0.1', milterPort, 'opendkim', () => milterOut);

    await run(POSTFIX, ['-c', conf, 'check']).catch((e: { stderr?: string }) => {
      throw new Error(`postfix check failed: ${e.stderr ?? ''}\n${log()}`);
    });
    started = true;
    await run(POSTFIX, ['-c', conf, 'start']).catch((e: { stderr?: string }) => {
      throw new Error(`postfix start failed: ${e.stderr ?? ''}\n${log()}`);
    });
    await waitListening(o.address, o.port, 'postfix', log);
  } catch (e) {
    await stop();
    throw e;
  }

  return {
    dir: base,
    messages(user) {
      const dir = path.join(base, 'mail', o.domain, user, 'new');
      return readdirSync(dir)
        .sort() // Maildir names begin with the delivery time in seconds
        .map((f) => readFileSync(path.join(dir, f), 'utf8'));
    },
    log,
    milterOutput: () => milterOut,
    stop,
  };
}
