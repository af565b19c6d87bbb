// POP3 session states (RFC 1939 §3): AUTHORIZATION → TRANSACTION → UPDATE. A
// discriminated union, so the maildrop and its lock exist only in the states that
// hold them, and the dispatcher checks a command's states before it runs.

import type { Account } from '../store/types.ts';
import type { MaildropLock } from './lock.ts';
import type { Maildrop } from './maildrop.ts';

export type Pop3State =
  /** `user`: the name given by USER, waiting for PASS (RFC 1939 §7). */
  | { readonly kind: 'authorization'; readonly user: string | null }
  | {
      readonly kind: 'transaction';
      readonly account: Account;
      readonly maildrop: Maildrop;
      readonly lock: MaildropLock;
    }
  /** After QUIT in TRANSACTION: deletions are being committed (RFC 1939 §6). */
  | { readonly kind: 'update' };

export type StateKind = Pop3State['kind'];

export const AUTHORIZATION: readonly StateKind[] = ['authorization'];
export const TRANSACTION: readonly StateKind[] = ['transaction'];
export const ANY: readonly StateKind[] = ['authorization', 'transaction'];
