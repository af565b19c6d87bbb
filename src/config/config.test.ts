import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { isSealpostError } from '../core/errors.ts';
import { loadConfig, parseSize, renderConfig } from './index.ts';

describe('config', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sealpost-config-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string) => {
    const p = path.join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const errorOf = (fn: () => unknown): string => {
    try {
      fn();
    } catch (e) {
      assert.ok(isSealpostError(e), 'a SealpostError');
      return e.message;
    }
    assert.fail('expected an error');
  };

  it('the commented template parses to a valid config with every default', () => {
    const file = write(
      't.toml',
      renderConfig({
        hostname: 'mail.example.com',
        dataDir: 'd',
        mxHost: '::',
        mxPort: 25,
        imapPort: 993,
        pop3Port: 995,
      }),
    );
    const c = loadConfig({ file, env: {} });
    assert.equal(c.hostname, 'mail.example.com');
    assert.equal(c.data_dir, path.join(dir, 'd'));
    assert.equal(c.keys.master_key_file, path.join(dir, 'd', 'master.key'));
    assert.equal(c.mx.max_message_size, 25 * 1024 * 1024);
    assert.equal(c.mx.max_header_size, 256 * 1024);
    assert.equal(c.mx.dmarc_reject, 'reject');
  });

  it('environment overrides are typed and win over the file', () => {
    const file = write('e.toml', 'hostname = "a.example"\n[mx]\nport = 25\n');
    const c = loadConfig({
      file,
      env: {
        SEALPOST_MX_PORT: '2525',
        SEALPOST_MX_VERIFY: 'false',
        SEALPOST_DNS_SERVERS: '127.0.0.1:53, [::1]:53',
      },
    });
    assert.equal(c.mx.port, 2525);
    assert.equal(c.mx.verify, false);
    assert.deepEqual(c.dns.servers, ['127.0.0.1:53', '[::1]:53']);
  });

  it('names the key, the value, the origin and the fix', () => {
    const file = write('bad.toml', '[mx]\nport = 99999\nmax_line_length = 80\n');
    const m = errorOf(() => loadConfig({ file, env: {} }));
    assert.match(m, /mx\.port = 99999 \(from .*bad\.toml\).*Fix: set mx\.port/);
    assert.match(m, /mx\.max_line_length = 80 .*RFC 5321/);
  });

  it('refuses unknown keys, unknown SEALPOST_ variables and broken TOML', () => {
    assert.match(
      errorOf(() => loadConfig({ file: write('u.toml', '[mx]\nprot = 1\n'), env: {} })),
      /unknown key\(s\) "prot" in \[mx\]/,
    );
    assert.match(
      errorOf(() => loadConfig({ file: null, env: { SEALPOST_MX_PROT: '1' } })),
      /SEALPOST_MX_PROT names no configuration key/,
    );
    assert.match(
      errorOf(() => loadConfig({ file: write('s.toml', 'hostname = \n'), env: {} })),
      /not valid TOML at line 1/,
    );
    assert.match(
      errorOf(() => loadConfig({ file: path.join(dir, 'missing.toml'), env: {} })),
      /sealpost init/,
    );
  });

  it('parses sizes', () => {
    assert.equal(parseSize('25MiB'), 25 * 1024 * 1024);
    assert.equal(parseSize('10 GB'), 10e9);
    assert.equal(parseSize(512), 512);
    assert.equal(parseSize('12 parsecs'), null);
    assert.equal(parseSize(-1), null);
    assert.equal(parseSize('1e9'), null);
  });
});
