// `sealpost init`: lay down a working installation — the data directory (0700), a
// commented config file, the master key (0600) and, when no certificate is
// configured, a development certificate (ECDSA P-256, SHA-256). Never overwrites:
// each piece that already exists is kept and reported as such.

import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/index.ts';
import { loadConfig, renderConfig } from '../config/index.ts';
import { createMasterKeyFile } from '../crypto/index.ts';
import { generateDevCertificate } from '../tls/index.ts';

export interface InitOptions {
  readonly configFile: string;
  readonly hostname: string;
  /** Relative to the config file's directory, as written into it. */
  readonly dataDir: string;
  readonly mxHost: string;
  readonly mxPort: number;
  /** IMAP and POP3 implicit-TLS ports (default 993 and 995), on mxHost. */
  readonly imapPort?: number;
  readonly pop3Port?: number;
  /** HTTPS port of the web role (default 443), on mxHost. */
  readonly webPort?: number;
  /** Submission ports (default 465 implicit TLS, 587 STARTTLS; 0 closes 587), on mxHost. */
  readonly submissionPort?: number;
  readonly submissionStarttlsPort?: number;
  readonly env?: NodeJS.ProcessEnv;
}

export interface InitResult {
  readonly config: Config;
  readonly created: readonly string[];
  readonly kept: readonly string[];
}

export async function initInstallation(opts: InitOptions): Promise<InitResult> {
  const created: string[] = [];
  const kept: string[] = [];
  const configFile = path.resolve(opts.configFile);
  mkdirSync(path.dirname(configFile), { recursive: true, mode: 0o700 });
  if (existsSync(configFile)) {
    kept.push(configFile);
  } else {
    const text = renderConfig({
      hostname: opts.hostname,
      dataDir: opts.dataDir,
      mxHost: opts.mxHost,
      mxPort: opts.mxPort,
      imapPort: opts.imapPort ?? 993,
      pop3Port: opts.pop3Port ?? 995,
      webPort: opts.webPort ?? 443,
      submissionPort: opts.submissionPort ?? 465,
      submissionStarttlsPort: opts.submissionStarttlsPort ?? 587,
    });
    writeFileSync(configFile, text, { mode: 0o600, flag: 'wx' });
    created.push(configFile);
  }
  const config = loadConfig({ file: configFile, env: opts.env ?? process.env });
  mkdirSync(config.data_dir, { recursive: true, mode: 0o700 });

  const env = opts.env ?? process.env;
  if (!env['SEALPOST_MASTER_KEY']) {
    if (existsSync(config.keys.master_key_file)) kept.push(config.keys.master_key_file);
    else {
      await createMasterKeyFile(config.keys.master_key_file);
      created.push(config.keys.master_key_file);
    }
  }

  if (existsSync(config.tls.cert_file) || existsSync(config.tls.key_file)) {
    kept.push(config.tls.cert_file);
  } else {
    const hostnames = [...new Set([config.hostname, 'localhost'])];
    const { certPem, keyPem } = await generateDevCertificate({ hostnames, ips: ['127.0.0.1', '::1'] });
    mkdirSync(path.dirname(config.tls.cert_file), { recursive: true, mode: 0o700 });
    mkdirSync(path.dirname(config.tls.key_file), { recursive: true, mode: 0o700 });
    writeFileSync(config.tls.key_file, keyPem, { mode: 0o600, flag: 'wx' });
    writeFileSync(config.tls.cert_file, certPem, { mode: 0o644, flag: 'wx' });
    created.push(config.tls.cert_file, config.tls.key_file);
  }
  return { config, created, kept };
}
