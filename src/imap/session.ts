// IMAP session states (RFC 9051 §3): a discriminated union, so a handler can only
// reach the account or the selected mailbox in a state that has them.

import type { Account } from '../store/types.ts';
import type { SelectedMailbox } from './selected.ts';

export type SessionState =
  | { readonly kind: 'not-authenticated' }
  | { readonly kind: 'authenticated'; readonly account: Account }
  | { readonly kind: 'selected'; readonly account: Account; readonly mailbox: SelectedMailbox }
  | { readonly kind: 'logout' };

export type StateKind = SessionState['kind'];

export const ANY: readonly StateKind[] = ['not-authenticated', 'authenticated', 'selected'];
export const NOT_AUTHENTICATED: readonly StateKind[] = ['not-authenticated'];
export const AUTHENTICATED: readonly StateKind[] = ['authenticated', 'selected'];
export const SELECTED: readonly StateKind[] = ['selected'];
