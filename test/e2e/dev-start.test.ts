// `npm start` on a fresh clone: initialises a development installation, prints where
// to connect and the credentials it created; a second start reuses the same data.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { CLI, freePort, NODE, runCli } from '../support/server.ts';
import { RawSmtp } from '../support/smtp-raw.ts';

async function startDev(
  configFile: string,
  port: number,
): Promise<{ output: string; stop: () => Promise<void> }> {
  const child = spawn(NODE, [CLI, 'start', '--dev', '--config', configFile], {
    env: {
      PATH: process.env['PATH'],
      HOME: process.env['HOME'],
      SEALPOST_MX_PORT: String(port),
      SEALPOST_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr.on('data', (b: Buffer) => (output += b.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start:\n${output}`)), 20_000);
    const check = () => {
      if (!output.includes('Stop with Ctrl-C')) return;
      clearTimeout(timer);
      resolve();
    };
    child.stdout.on('data', check);
    child.stderr.on('data', check);
    child.once('exit', (c) => reject(new Error(`exited ${c}:\n${output}`)));
  });
  return {
    output,
    stop: () =>
      new Promise((r) => {
        child.once('exit', () => r());
        child.kill('SIGINT');
      }),
  };
}

describe('npm start (development mode)', () => {
  it('initialises on first start, prints credentials, and reuses data on the second', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sealpost-dev-'));
    const configFile = path.join(dir, 'data', 'sealpost.toml');
    try {
      const port = await freePort();
      const first = await startDev(configFile, port);
      assert.match(first.output, new RegExp(`mx +smtp://127\\.0\\.0\\.1:${port}`));
      assert.match(first.output, /user dev@sealpost\.test\n {2}password: [a-z2-9-]{23}/);
      const { client, greeting } = await RawSmtp.connect(port);
      assert.equal(greeting.code, 220);
      await client.cmd('EHLO me.example');
      await client.cmd('MAIL FROM:<me@example.org>');
      assert.equal((await client.cmd('RCPT TO:<dev@sealpost.test>')).code, 250, 'the dev user receives mail');
      client.close();
      await first.stop();

      const second = await startDev(configFile, port);
      assert.doesNotMatch(second.output, /password:/, 'no new credentials');
      assert.doesNotMatch(second.output, /Initialised/);
      await second.stop();
      const users = await runCli({ env: { PATH: process.env['PATH'], SEALPOST_CONFIG: configFile } }, [
        'user',
        'list',
        '--json',
      ]);
      assert.deepEqual(
        (JSON.parse(users.stdout) as { address: string }[]).map((u) => u.address),
        ['dev@sealpost.test'],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
