// The text format of master keys, shared by the key file and SEALPOST_MASTER_KEY:
//   sealpost-master-key v<version> <base64 of 32 bytes>
// one key per line (or per ';'-separated entry in the environment); blank lines and
// lines starting with '#' are ignored.
//
// Invariants:
// - Parse errors name the line (or entry) number and what was expected, never the
//   line's content: a malformed line may still hold a real key.
// - Base64 is strict (44 characters, standard alphabet, one '=' pad), so a typo is an
//   error rather than a silently different key.

import { SealpostError } from '../core/errors.ts';
import type { MasterKey } from './master-key.ts';

const LINE_TAG = 'sealpost-master-key';
const KEY_B64 = /^[A-Za-z0-9+/]{43}=$/;
const MAX_VERSION = 2 ** 31 - 1;

export function formatKeyLine(key: MasterKey): string {
  return `${LINE_TAG} v${key.version} ${key.key.toString('base64')}\n`;
}

/** Decode a strict base64 32-byte key, or null. */
export function decodeKey(b64: string): Buffer | null {
  if (!KEY_B64.test(b64)) return null;
  const key = Buffer.from(b64, 'base64');
  return key.length === 32 && key.toString('base64') === b64 ? key : null;
}

/** A key from one line, or the reason it is malformed (without the line's content). */
function parseLine(line: string): MasterKey | string {
  const parts = line.split(/\s+/);
  if (parts.length !== 3 || parts[0] !== LINE_TAG) {
    return `expected "${LINE_TAG} v<version> <base64 of 32 bytes>"`;
  }
  const match = /^v([1-9][0-9]*)$/.exec(parts[1] ?? '');
  const version = match ? Number(match[1]) : Number.NaN;
  if (!Number.isSafeInteger(version) || version > MAX_VERSION) {
    return 'the version must be "v" followed by a positive integer, e.g. v1';
  }
  const key = decodeKey(parts[2] ?? '');
  if (key === null) return 'the key must be the base64 (44 characters) of exactly 32 bytes';
  return { version, key };
}

/**
 * Parse entries (lines of a file, or entries of the environment variable). `where`
 * names the source and `unit` the word for one entry, for error messages.
 */
export function parseKeyEntries(entries: readonly string[], where: string, unit: string): MasterKey[] {
  const keys: MasterKey[] = [];
  const seen = new Set<number>();
  entries.forEach((raw, index) => {
    const entry = raw.trim();
    if (entry === '' || entry.startsWith('#')) return;
    const parsed = parseLine(entry);
    const n = index + 1;
    if (typeof parsed === 'string') {
      throw new SealpostError('key.invalid', `${where}: ${unit} ${n} is malformed: ${parsed}`, {
        source: where,
        [unit]: n,
      });
    }
    if (seen.has(parsed.version)) {
      throw new SealpostError(
        'key.invalid',
        `${where}: ${unit} ${n} repeats key version v${parsed.version}`,
        {
          source: where,
          [unit]: n,
        },
      );
    }
    seen.add(parsed.version);
    keys.push(parsed);
  });
  if (keys.length === 0) {
    throw new SealpostError('key.invalid', `${where}: holds no master key`, { source: where });
  }
  return keys;
}
