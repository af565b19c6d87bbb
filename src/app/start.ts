// `sealpost start`: run the roles of this node. Each role's readiness checks must pass
// before it takes a connection (DESIGN invariant 10): the store answers, the master
// key opens an account key, the certificate is valid.
//
// Two ways to take connections:
// - 'listen': this process opens the listening sockets itself (one process, or tests);
// - 'handoff': a supervising process owns the sockets (see cluster.ts) and hands each
//   accepted connection to this worker through accept().

import { readFileSync } from 'node:fs';
import type net from 'node:net';
import os from 'node:os';
import { createPasswordLogin } from '../auth/password-login.ts';
import type { Config } from '../config/index.ts';
import { AbuseGuard } from '../delivery/abuse-guard.ts';
import { DkimKeyring, finishDueRetirements } from '../delivery/dkim/index.ts';
import { createDnssecQuery } from '../delivery/dns-dnssec.ts';
import { MtaSts } from '../delivery/mta-sts.ts';
import { StoreMtaStsCache } from '../delivery/mta-sts-store-cache.ts';
import { OutboundQueue } from '../delivery/queue.ts';
import { publicAddressFilter, SmtpRemoteTransport } from '../delivery/remote.ts';
import { DeliveryRunner } from '../delivery/runner.ts';
import { TlsRptRecorder } from '../delivery/tls-rpt.ts';
import { TlsRptSender } from '../delivery/tls-rpt-sender.ts';
import { createImapServers } from '../imap/server.ts';
import type { Logger } from '../log/logger.ts';
import { AccountKeys } from '../mail/account-keys.ts';
import { createDnsResolver, type DnsResolver } from '../net/dns.ts';
import { ensureReady, openListener, type ReadinessCheck } from '../net/listener.ts';
import { createPop3Servers } from '../pop3/server.ts';
import { createAnalyser } from '../smtp/analysis.ts';
import { createMxServer } from '../smtp/mx-server.ts';
import { createSubmissionServers } from '../smtp/submission-server.ts';
import type { Store } from '../store/types.ts';
import { CertificateSource, validateCertificate } from '../tls/index.ts';
import { createWebServer } from '../web/server.ts';
import { loadKeys, openRuntime, type Runtime } from './runtime.ts';

export const ROLES = ['mx', 'submission', 'imap', 'pop3', 'web', 'delivery'] as const;
export type Role = (typeof ROLES)[number];

export interface Listening {
  readonly role: Role;
  readonly host: string;
  readonly port: number;
  /** 'tls': implicit TLS; 'starttls': cleartext that offers STARTTLS/STLS (the default for mx). */
  readonly security?: 'tls' | 'starttls';
}

export interface StartOptions {
  readonly logger: Logger;
  readonly roles?: readonly Role[];
  readonly env?: NodeJS.ProcessEnv;
  readonly mode?: 'listen' | 'handoff';
  /** Handoff mode: told when a handed-off connection has ended (peer address, port). */
  readonly onConnectionClosed?: (role: Role, address: string, port: number) => void;
}

export interface RunningServer {
  readonly runtime: Runtime;
  readonly roles: readonly Role[];
  /** Listen mode: where each role listens. Empty in handoff mode. */
  readonly listening: readonly Listening[];
  /** Handoff mode: serve a connection the supervisor accepted for `role`. */
  accept(role: Role, socket: net.Socket): void;
  /** The delivery role's TLS-RPT reports (null without that role): send a day's now. */
  readonly tlsReports: TlsRptSender | null;
  stop(): Promise<void>;
}

export async function startServer(config: Config, options: StartOptions): Promise<RunningServer> {
  const { logger } = options;
  const mode = options.mode ?? 'listen';
  const enabled: Record<Role, boolean> = {
    mx: config.mx.enabled,
    submission: config.submission.enabled,
    delivery: config.delivery.enabled,
    imap: config.imap.enabled,
    pop3: config.pop3.enabled,
    web: config.web.enabled,
  };
  const roles = (options.roles ?? ROLES).filter((r) => enabled[r]);
  const rt = await openRuntime(config, { logger, ...(options.env ? { env: options.env } : {}) });
  const certificates = await CertificateSource.fromFiles(config.tls.cert_file, config.tls.key_file, logger);
  certificates.on('reload', () => logger.info({ cert: config.tls.cert_file }, 'tls: certificate reloaded'));
  certificates.on('reload-error', (err: Error) =>
    logger.error({ err: { message: err.message } }, 'tls: new certificate refused, keeping the old one'),
  );
  const accountKeys = new AccountKeys(rt.store, rt.keys, () => loadKeys(config, options.env));
  const threads = config.mx.analysis_threads;
  const analyser = createAnalyser({
    ...(threads === 'auto' ? {} : { threads }),
    dns: { servers: config.dns.servers, timeoutMs: config.dns.timeout_ms },
  });
  const checks = readinessChecks(rt, accountKeys, certificates);

  const servers = new Map<Role, net.Server>();
  const closers: (() => Promise<void>)[] = [];
  let tlsReports: TlsRptSender | null = null;
  const listening: Listening[] = [];
  try {
    if (roles.includes('mx')) {
      const onClosed = options.onConnectionClosed;
      const mx = createMxServer({
        rt,
        accountKeys,
        analyser,
        certificates,
        logger: logger.child({ role: 'mx' }),
        ...(onClosed ? { onClosed: (address: string, port: number) => onClosed('mx', address, port) } : {}),
      });
      servers.set('mx', mx.server);
      if (mode === 'listen') {
        const l = await openListener({
          name: 'mx',
          server: mx.server,
          host: config.mx.host,
          port: config.mx.port,
          checks,
          logger,
        });
        closers.push(() => l.close());
        listening.push({ role: 'mx', host: l.host, port: l.port });
      }
    }
    const login = createPasswordLogin({
      store: rt.store,
      logger: logger.child({ role: 'auth' }),
      keys: rt.keys,
    });
    const analyse = async (raw: Buffer) => {
      const input = {
        message: raw,
        ip: '',
        helo: '',
        mailFrom: '',
        hostname: config.hostname,
        verify: false,
      };
      return (await analyser.analyse(input)).content;
    };
    const open = async (
      role: Role,
      server: net.Server,
      host: string,
      port: number,
      security: 'tls' | 'starttls',
    ) => {
      if (mode !== 'listen') return;
      const l = await openListener({ name: `${role}-${security}`, server, host, port, checks, logger });
      closers.push(() => l.close());
      listening.push({ role, host: l.host, port: l.port, security });
    };
    // The mail-client protocols: implicit TLS, and STARTTLS/STLS when a port is set.
    const clientProtocols = [
      { role: 'imap', cfg: config.imap, create: createImapServers },
      { role: 'pop3', cfg: config.pop3, create: createPop3Servers },
    ] as const;
    for (const p of clientProtocols) {
      if (!roles.includes(p.role)) continue;
      const child = logger.child({ role: p.role });
      const s = p.create({
        config,
        store: rt.store,
        accountKeys,
        certificates,
        login,
        analyse,
        logger: child,
      });
      servers.set(p.role, s.tls);
      closers.unshift(async () => {
        await s.close();
      });
      await open(p.role, s.tls, p.cfg.host, p.cfg.port, 'tls');
      if (p.cfg.starttls_port !== 0) await open(p.role, s.plain, p.cfg.host, p.cfg.starttls_port, 'starttls');
    }
    // The outbound side: submission (465/587) queues, the delivery role empties the queue.
    const queue = new OutboundQueue(rt.store, rt.keys);
    let runner: DeliveryRunner | null = null;
    // Per-account sending limits and suspension (issue 5 item 7): submission asks it,
    // delivery holds a suspended sender's mail and reports bounces to it.
    const guard = new AbuseGuard({
      config,
      store: rt.store,
      keys: rt.keys,
      queue,
      audit: rt.audit,
      logger: logger.child({ role: 'abuse-guard' }),
      onQueued: () => runner?.wake(),
    });
    const sign = dkimSigner(rt, logger.child({ role: 'dkim' }));
    if (roles.includes('delivery')) {
      const dlog = logger.child({ role: 'delivery' });
      const resolver = createDnsResolver({
        servers: [...config.dns.servers],
        timeoutMs: config.dns.timeout_ms,
      });
      const recorder = new TlsRptRecorder();
      const reporter = new TlsRptSender({
        config,
        store: rt.store,
        recorder,
        resolver,
        queue,
        sign,
        logger: dlog,
      });
      reporter.start();
      tlsReports = reporter;
      // DKIM keys whose overlap has ended stop being published (sealpost dkim dns).
      const retire = setInterval(() => {
        finishDueRetirements(rt, 'system').catch((e: unknown) =>
          dlog.error({ err: e }, 'dkim: retirement failed'),
        );
      }, 3_600_000);
      retire.unref();
      closers.unshift(async () => {
        reporter.stop();
        clearInterval(retire);
      });
      const r = new DeliveryRunner({
        config,
        store: rt.store,
        queue,
        accountKeys,
        analyse,
        logger: logger.child({ role: 'delivery' }),
        remote: createRemote(config, dlog, resolver, recorder, rt.store),
        // One owner per machine: a restart here drops its own leases at once, and other
        // nodes sharing the store keep theirs until they lapse.
        owner: `${config.hostname}/${os.hostname()}/delivery`,
        guard,
      });
      runner = r;
      closers.unshift(() => r.stop());
    }
    if (roles.includes('submission')) {
      const s = createSubmissionServers({
        config,
        store: rt.store,
        login,
        queue,
        certificates,
        logger: logger.child({ role: 'submission' }),
        onQueued: () => runner?.wake(),
        guard,
        sign,
      });
      servers.set('submission', s.tls.server);
      const sub = config.submission;
      await open('submission', s.tls.server, sub.host, sub.port, 'tls');
      if (s.starttls !== null)
        await open('submission', s.starttls.server, sub.host, sub.starttls_port, 'starttls');
    }
    if (runner !== null) await runner.start();
    // The web role: HTTPS only (DESIGN invariant 6).
    if (roles.includes('web')) {
      const web = await createWebServer({
        config,
        store: rt.store,
        keys: rt.keys,
        accountKeys,
        certificates,
        login,
        audit: rt.audit,
        logger: logger.child({ role: 'web' }),
      });
      servers.set('web', web.server);
      closers.unshift(() => web.close());
      await open('web', web.server, config.web.host, config.web.port, 'tls');
    }
    if (mode === 'handoff') await ensureReady({ name: roles.join(','), checks });
  } catch (e) {
    await Promise.allSettled(closers.map((c) => c()));
    await analyser.close();
    certificates.close();
    await rt.close();
    throw e;
  }

  let stopped = false;
  return {
    runtime: rt,
    roles,
    listening,
    tlsReports,
    accept(role, socket) {
      const server = servers.get(role);
      if (server === undefined || stopped) {
        socket.destroy();
        return;
      }
      // The protocol server treats it exactly like a connection it accepted itself.
      // (No bookkeeping on the socket here: smtp-server strips its listeners on
      // STARTTLS. Connections end through the protocol's own close path, and a
      // worker process exits after stop().)
      server.emit('connection', socket);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await Promise.allSettled(closers.map((c) => c()));
      await analyser.close();
      certificates.close();
      await rt.close();
    },
  };
}

/** DKIM signing of submitted mail with the domain's active keys (delivery/dkim). */
function dkimSigner(rt: Runtime, logger: Logger) {
  const keyring = new DkimKeyring({ store: rt.store, keys: rt.keys, logger });
  return async (message: Buffer, domain: string): Promise<Buffer> => {
    const r = await keyring.sign(message, domain);
    if (r.unsignedReason !== null) logger.warn({ domain }, `dkim: not signed: ${r.unsignedReason}`);
    return r.message;
  };
}

/** SMTP to other domains: MX routing, MTA-STS, DANE when the resolver validates, TLS-RPT. */
function createRemote(
  config: Config,
  logger: Logger,
  resolver: DnsResolver,
  tlsRpt: TlsRptRecorder,
  store: Store,
): SmtpRemoteTransport {
  const ca =
    config.delivery.tls_ca_file === '' ? undefined : readFileSync(config.delivery.tls_ca_file, 'utf8');
  const filter = config.delivery.allow_private_addresses ? () => true : publicAddressFilter();
  const mtaSts = new MtaSts({
    resolver,
    addressFilter: filter,
    port: config.delivery.mta_sts_port,
    cache: new StoreMtaStsCache(store),
    ...(ca === undefined ? {} : { ca }),
  });
  const server = config.dns.servers[0];
  const dnssec =
    config.dns.dnssec && server !== undefined
      ? createDnssecQuery({ server, timeoutMs: config.dns.timeout_ms })
      : undefined;
  return new SmtpRemoteTransport({
    config,
    resolver,
    mtaSts,
    logger,
    tlsRpt,
    ...(dnssec === undefined ? {} : { dnssec }),
    ...(ca === undefined ? {} : { ca }),
  });
}

function readinessChecks(rt: Runtime, keys: AccountKeys, certificates: CertificateSource): ReadinessCheck[] {
  return [
    { name: 'store reachable', check: () => rt.store.ping() },
    {
      name: 'master key opens account keys',
      check: async () => {
        // One account key is enough to prove the master key fits the data.
        const [first] = await rt.store.listAllAccountKeys();
        if (first !== undefined) await keys.current(first.accountId);
      },
    },
    {
      name: 'certificate valid',
      check: async () => {
        const c = certificates.current();
        validateCertificate(c.certPem, c.keyPem);
      },
    },
  ];
}
