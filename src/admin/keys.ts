// Master-key rotation: add a new master key version to the key file, then re-wrap
// every account key under it in one transaction. Message blobs and sealed columns
// are untouched (they are sealed under per-message data keys, wrapped by account
// keys, which do not change). Older master key versions stay in the file so that
// backups taken before the rotation still restore; a crash between the two steps
// leaves every record readable, and running the rotation again finishes the job.

import type { Runtime } from '../app/runtime.ts';
import { SealpostError } from '../core/errors.ts';
import { rewrapAccountKey, rotateMasterKeyFile } from '../crypto/index.ts';

export interface RotationResult {
  readonly version: number;
  readonly accounts: number;
}

export async function rotateMasterKey(
  rt: Runtime,
  actor: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RotationResult> {
  if (env['SEALPOST_MASTER_KEY']) {
    throw new SealpostError(
      'key.invalid',
      'the master key comes from SEALPOST_MASTER_KEY, so Sealpost cannot rotate it. Fix: add a new key version to the secret yourself, or use a key file.',
    );
  }
  const ring = await rotateMasterKeyFile(rt.config.keys.master_key_file);
  const records = await rt.store.listAllAccountKeys();
  const rewrapped = records.map((r) => rewrapAccountKey(ring, r));
  await rt.store.putAccountKeys(rewrapped);
  await rt.audit.append({
    actor,
    action: 'keys.rotate',
    target: 'master-key',
    detail: { version: ring.current.version, accounts: rewrapped.length },
  });
  return { version: ring.current.version, accounts: rewrapped.length };
}
