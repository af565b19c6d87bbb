// Certificates for listeners: validation (certificate-validation.ts, re-exported
// here) and a certificate and key loaded from files, kept current without a restart:
// certbot/ACME clients renew by atomic rename or symlink swap (certbot's live/
// links, Kubernetes' ..data), so both files are watched two ways — fs.watch on their
// directories (prompt) and fs.watchFile polling (follows symlinks, survives a
// replaced directory) — and every change is debounced into one reload.
// Invariants (DESIGN 2, 10): a new certificate is served only after
// validateCertificate() accepts it; an invalid one is logged, 'reload-error' is
// emitted and the previous certificate stays in service. Key material is never
// logged. Servers follow reloads through SNICallback() (per handshake) and
// attachToTlsServer() (the default context, used by clients that send no SNI).

import { EventEmitter } from 'node:events';
import { type FSWatcher, type StatsListener, unwatchFile, watch, watchFile } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type tls from 'node:tls';
import type { Logger } from 'pino';
import { type CertificateInfo, validateCertificate } from './certificate-validation.ts';
import { createServerSecureContext, tlsPolicyOptions } from './policy.ts';

export { type CertificateInfo, parseAltNames, validateCertificate } from './certificate-validation.ts';

export interface LoadedCertificate {
  readonly certPem: string;
  readonly keyPem: string;
  readonly context: tls.SecureContext;
  readonly info: CertificateInfo;
}

export interface CertificateSourceOptions {
  /** fs.watchFile polling interval; default 10 s. */
  pollIntervalMs?: number;
  /** Quiet time after the last change before reloading (cert and key land separately); default 500 ms. */
  settleMs?: number;
  /** Injectable clock for validation; default the system clock. */
  now?: () => Date;
}

type SniCallback = (servername: string, cb: (err: Error | null, ctx?: tls.SecureContext) => void) => void;

interface Events {
  reload: [info: CertificateInfo];
  'reload-error': [error: Error];
}

async function load(certFile: string, keyFile: string, now: Date): Promise<LoadedCertificate> {
  const [certPem, keyPem] = await Promise.all([readFile(certFile, 'utf8'), readFile(keyFile, 'utf8')]);
  const info = validateCertificate(certPem, keyPem, now);
  return Object.freeze({ certPem, keyPem, info, context: createServerSecureContext({ certPem, keyPem }) });
}

function describe(info: CertificateInfo): Record<string, unknown> {
  return {
    subject: info.subject,
    altNames: info.altNames,
    validTo: info.validTo,
    fingerprint256: info.fingerprint256,
  };
}

export class CertificateSource extends EventEmitter<Events> {
  readonly certFile: string;
  readonly keyFile: string;
  #current: LoadedCertificate;
  readonly #logger: Logger | undefined;
  readonly #options: Required<CertificateSourceOptions>;
  readonly #watchers: FSWatcher[] = [];
  readonly #statWatchers: { file: string; listener: StatsListener }[] = [];
  #timer: NodeJS.Timeout | undefined;
  #reloading: Promise<boolean> = Promise.resolve(false);
  #closed = false;

  private constructor(
    certFile: string,
    keyFile: string,
    initial: LoadedCertificate,
    logger: Logger | undefined,
    options: Required<CertificateSourceOptions>,
  ) {
    super();
    this.certFile = certFile;
    this.keyFile = keyFile;
    this.#current = initial;
    this.#logger = logger;
    this.#options = options;
  }

  /** Load and validate both files (throws 'tls.invalid-certificate'), then watch them. */
  static async fromFiles(
    certFile: string,
    keyFile: string,
    logger?: Logger,
    options: CertificateSourceOptions = {},
  ): Promise<CertificateSource> {
    const opts: Required<CertificateSourceOptions> = {
      pollIntervalMs: options.pollIntervalMs ?? 10_000,
      settleMs: options.settleMs ?? 500,
      now: options.now ?? (() => new Date()),
    };
    const certPath = path.resolve(certFile);
    const keyPath = path.resolve(keyFile);
    const initial = await load(certPath, keyPath, opts.now());
    const source = new CertificateSource(certPath, keyPath, initial, logger, opts);
    source.#watch();
    logger?.info(describe(initial.info), 'certificate loaded');
    return source;
  }

  current(): LoadedCertificate {
    return this.#current;
  }

  /** An SNICallback for tls.Server / smtp-server: every handshake gets the current context. */
  SNICallback(): SniCallback {
    return (_servername, cb) => cb(null, this.#current.context);
  }

  /**
   * Re-read both files now. Resolves true if a new certificate went into service,
   * false if nothing changed or the new files were refused (then 'reload-error' fired).
   */
  reload(): Promise<boolean> {
    this.#reloading = this.#reloading.then(() => this.#reloadOnce());
    return this.#reloading;
  }

  async #reloadOnce(): Promise<boolean> {
    if (this.#closed) return false;
    let next: LoadedCertificate;
    try {
      next = await load(this.certFile, this.keyFile, this.#options.now());
    } catch (e) {
      const error = e instanceof Error ? e : new Error(String(e));
      this.#logger?.error(
        {
          certFile: this.certFile,
          keyFile: this.keyFile,
          err: error.message,
          kept: this.#current.info.fingerprint256,
        },
        'new certificate refused; keeping the current one',
      );
      this.emit('reload-error', error);
      return false;
    }
    if (next.certPem === this.#current.certPem && next.keyPem === this.#current.keyPem) return false;
    if (this.#closed) return false;
    this.#current = next;
    this.#logger?.info(describe(next.info), 'certificate reloaded');
    this.emit('reload', next.info);
    return true;
  }

  #schedule(): void {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.reload(), this.#options.settleMs);
    this.#timer.unref();
  }

  #watch(): void {
    for (const dir of new Set([path.dirname(this.certFile), path.dirname(this.keyFile)])) {
      try {
        const watcher = watch(dir, { persistent: false }, () => this.#schedule());
        watcher.on('error', (err) => {
          this.#logger?.warn({ dir, err: err.message }, 'directory watch failed; relying on polling');
          watcher.close();
        });
        this.#watchers.push(watcher);
      } catch (err) {
        this.#logger?.warn(
          { dir, err: (err as Error).message },
          'cannot watch directory; relying on polling',
        );
      }
    }
    for (const file of [this.certFile, this.keyFile]) {
      const listener: StatsListener = (curr, prev) => {
        if (curr.mtimeMs !== prev.mtimeMs || curr.ino !== prev.ino || curr.size !== prev.size)
          this.#schedule();
      };
      watchFile(file, { persistent: false, interval: this.#options.pollIntervalMs }, listener);
      this.#statWatchers.push({ file, listener });
    }
  }

  /** Stop watching; the current certificate stays usable. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    for (const w of this.#watchers.splice(0)) w.close();
    for (const { file, listener } of this.#statWatchers.splice(0)) unwatchFile(file, listener);
  }
}

/**
 * tls.Server options under the TLS policy that serve `source`'s certificate and
 * follow its reloads for clients that send SNI; pair with attachToTlsServer().
 */
export function tlsServerOptions(source: CertificateSource): tls.TlsOptions {
  const { certPem, keyPem } = source.current();
  return { ...tlsPolicyOptions(), cert: certPem, key: keyPem, SNICallback: source.SNICallback() };
}

/**
 * Keep a tls.Server's default secure context (what a client without SNI gets)
 * in step with `source`. Returns a function that detaches.
 */
export function attachToTlsServer(server: tls.Server, source: CertificateSource): () => void {
  const onReload = (): void => {
    const { certPem, keyPem } = source.current();
    server.setSecureContext({ ...tlsPolicyOptions(), cert: certPem, key: keyPem });
  };
  source.on('reload', onReload);
  return () => source.off('reload', onReload);
}
