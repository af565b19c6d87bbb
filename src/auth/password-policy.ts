// The password policy for Sealpost accounts (issue 4, "Identity"): which new
// passwords are accepted, following NIST SP 800-63B rev. 4 §3.1.1.2 (length first,
// no composition rules, refuse passwords found in breach corpora and dictionaries or
// built from context words) and OWASP's Authentication Cheat Sheet.
//
// Invariants:
// - Length is counted in code points after Unicode NFC (RFC 8265 OpaqueString, as
//   crypto/password.ts hashes it): minimum MIN_PASSWORD_LENGTH, maximum
//   MAX_PASSWORD_LENGTH.
// - Strength is zxcvbn-ts's estimate with its bundled common and English word lists
//   and keyboard graphs, loaded once on first use; nothing is fetched at run time.
//   A score of at least MIN_SCORE (about 10^8 guesses or more) is required.
// - A password built around the account's own name, its domain, "sealpost" or the
//   caller's extra words is refused: the part left once those are taken out must be
//   strong on its own.
// - The password never appears in a verdict, message, error or log line.
//
// Measured on the development machine (Node 24): loading the word lists and building
// the estimator takes about 330-390 ms, once per process; a check then takes 3-40 ms
// for ordinary passwords, about 60 ms for generatePassword()'s format (its digits set
// off the l33t matcher), and at most about 360 ms for the longest input estimated
// (ESTIMATE_LIMIT code points). Levenshtein matching is left off: it raised checks to
// 130-1700 ms and the refusals it adds are already covered by the dictionaries.

import { createRequire } from 'node:module';
import type * as ZxcvbnCore from '@zxcvbn-ts/core';
import type * as ZxcvbnCommon from '@zxcvbn-ts/language-common';
import type * as ZxcvbnEn from '@zxcvbn-ts/language-en';
import { verifyPassword } from '../crypto/password.ts';

/**
 * Default minimum length in code points. NIST SP 800-63B rev. 4 asks for 15 when a
 * password is the only factor and 8 when it is part of multi-factor authentication.
 * Mail clients (IMAP, POP3, SMTP submission) log in with the account password alone
 * until app passwords exist, so 8 is too little; 12 together with the strength
 * estimate and breached-pattern refusals below keeps passphrases of three or four
 * words usable while refusing what a cracker tries first. Deployments that want the
 * single-factor figure pass `{ minLength: 15 }`.
 */
export const MIN_PASSWORD_LENGTH = 12;
/** Longer input is refused outright, so hashing and estimating stay bounded. */
export const MAX_PASSWORD_LENGTH = 1024;
/** zxcvbn score 3: "safely unguessable: moderate protection from offline slow-hash scenario". */
export const MIN_SCORE = 3;
/**
 * Only this many leading code points are estimated (a check's cost grows with
 * length). A strong prefix makes the whole strong; a weak prefix refuses the
 * password, which errs on the safe side.
 */
export const ESTIMATE_LIMIT = 64;
/** How many previous hashes a caller should keep and pass to matchesRecent. */
export const RECENT_PASSWORDS_KEPT = 5;

export type PasswordRefusal = 'too-short' | 'too-long' | 'too-weak' | 'contains-identity';

export type PasswordVerdict =
  | { ok: true; score: number }
  | { ok: false; reason: PasswordRefusal; message: string; suggestions: string[] };

export interface PasswordContext {
  /** The account's address: its local part and domain labels count as guessable words. */
  address?: string;
  /** More words a guesser would try (a display name, an organisation). */
  extraWords?: readonly string[];
}

export interface PasswordPolicyOptions {
  /** Minimum length in code points; defaults to MIN_PASSWORD_LENGTH. */
  minLength?: number;
}

type Estimator = InstanceType<typeof ZxcvbnCore.ZxcvbnFactory>;
let estimator: Estimator | null = null;

/** Builds the estimator on first use (synchronously: the packages are CommonJS). */
function getEstimator(): Estimator {
  if (estimator !== null) return estimator;
  const require = createRequire(import.meta.url);
  const core = require('@zxcvbn-ts/core') as typeof ZxcvbnCore;
  const common = require('@zxcvbn-ts/language-common') as typeof ZxcvbnCommon;
  const en = require('@zxcvbn-ts/language-en') as typeof ZxcvbnEn;
  estimator = new core.ZxcvbnFactory({
    dictionary: { ...common.dictionary, ...en.dictionary },
    graphs: common.adjacencyGraphs,
    translations: en.translations,
    useLevenshteinDistance: false,
    maxLength: ESTIMATE_LIMIT,
  });
  return estimator;
}

/** The words a guesser who knows the account would try first, lower-cased. */
export function identityWords(context: PasswordContext): string[] {
  const words = new Set<string>(['sealpost']);
  const add = (w: string) => {
    const s = w.normalize('NFC').toLowerCase().trim();
    if ([...s].length >= 3) words.add(s);
  };
  const address = context.address ?? '';
  const at = address.lastIndexOf('@');
  const local = at >= 0 ? address.slice(0, at) : address;
  const domain = at >= 0 ? address.slice(at + 1) : '';
  add(local);
  for (const piece of local.split(/[.+_-]/)) add(piece);
  for (const label of domain.split('.')) add(label);
  for (const w of context.extraWords ?? []) {
    add(w);
    for (const piece of w.split(/\s+/)) add(piece);
  }
  return [...words];
}

// Look-alike characters read as the letter they stand for ("1" twice: as i and as l).
const LOOKALIKES: readonly Record<string, string>[] = [
  {
    '4': 'a',
    '@': 'a',
    '8': 'b',
    '3': 'e',
    '6': 'g',
    '1': 'i',
    '!': 'i',
    '0': 'o',
    '5': 's',
    $: 's',
    '7': 't',
    '2': 'z',
  },
  { '1': 'l', '|': 'l' },
];

/** Marks each code point of `points` that is part of an identity word, forwards or reversed. */
function identitySpans(points: readonly string[], words: readonly string[]): boolean[] {
  const covered = points.map(() => false);
  const lower = points.map((c) => {
    const l = c.toLowerCase();
    return [...l].length === 1 ? l : c;
  });
  const variants = [lower, ...LOOKALIKES.map((t) => lower.map((c) => t[c] ?? LOOKALIKES[0]?.[c] ?? c))];
  for (const variant of variants) {
    for (const w of words) {
      const wp = [...w];
      for (const needle of [wp, [...wp].reverse()]) {
        for (let s = 0; s + needle.length <= variant.length; s++) {
          if (needle.every((c, k) => variant[s + k] === c))
            for (let k = 0; k < needle.length; k++) covered[s + k] = true;
        }
      }
    }
  }
  return covered;
}

function refuse(reason: PasswordRefusal, message: string, suggestions: string[] = []): PasswordVerdict {
  return { ok: false, reason, message, suggestions };
}

const PASSPHRASE_HINT = 'Use a passphrase of four or more random words, or a generated password.';

/** Decides whether `password` may become an account's password. Never echoes it. */
export function checkPassword(
  password: string,
  context: PasswordContext = {},
  options: PasswordPolicyOptions = {},
): PasswordVerdict {
  const minLength = options.minLength ?? MIN_PASSWORD_LENGTH;
  const points = [...(typeof password === 'string' ? password : '').normalize('NFC')];
  if (points.length > MAX_PASSWORD_LENGTH) {
    return refuse('too-long', `password too long: use at most ${MAX_PASSWORD_LENGTH} characters`);
  }
  if (points.length < minLength) {
    return refuse(
      'too-short',
      `password too short: use at least ${minLength} characters (a passphrase of several words is best)`,
      [PASSPHRASE_HINT],
    );
  }
  const zxcvbn = getEstimator();
  const estimated = points.slice(0, ESTIMATE_LIMIT);
  const userInputs = identityWords(context);
  const result = zxcvbn.check(estimated.join(''), userInputs);
  const suggestions = [...result.feedback.suggestions];
  if (!suggestions.includes(PASSPHRASE_HINT)) suggestions.push(PASSPHRASE_HINT);

  // Take out every part that spells an identity word (found directly, through common
  // substitutions, reversed, or by the estimator) and require the rest to be strong.
  const covered = identitySpans(estimated, userInputs);
  for (const m of result.sequence) {
    if (m.pattern !== 'dictionary' || !('dictionaryName' in m) || m.dictionaryName !== 'userInputs') continue;
    // The estimator's indices count UTF-16 units of the estimated string.
    let unit = 0;
    for (let k = 0; k < estimated.length; k++) {
      if (unit >= m.i && unit <= m.j) covered[k] = true;
      unit += (estimated[k] ?? '').length;
    }
  }
  if (covered.includes(true)) {
    const rest = estimated.filter((_, k) => covered[k] !== true).join('');
    if (rest.length === 0 || zxcvbn.check(rest, userInputs).score < MIN_SCORE) {
      return refuse(
        'contains-identity',
        "password is built around the account's name, its domain or the server's name: without them, what is left is easy to guess",
        ['Do not build a password from your address or the service name.', PASSPHRASE_HINT],
      );
    }
  }
  if (result.score < MIN_SCORE) {
    const warning = result.feedback.warning;
    const why = warning !== null && warning !== '' ? ` (${warning.replace(/\.$/, '')})` : '';
    return refuse('too-weak', `password too easy to guess${why}`, suggestions);
  }
  return { ok: true, score: result.score };
}

/**
 * True when `password` matches one of `recentHashes` (argon2id PHC strings, newest
 * first, as the caller keeps them: RECENT_PASSWORDS_KEPT is the suggested count).
 * Each comparison is a full argon2id verification (tens of milliseconds), so callers
 * pass a bounded list; malformed hashes never match.
 */
export async function matchesRecent(password: string, recentHashes: readonly string[]): Promise<boolean> {
  for (const h of recentHashes) {
    if (await verifyPassword(h, password)) return true;
  }
  return false;
}
