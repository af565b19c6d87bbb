// Every fuzz target, in the order the runner runs them (fuzz/run.ts).

import type { AnyTarget } from '../target.ts';
import { address } from './address.ts';
import { config } from './config.ts';
import { imapCommand } from './imap-command.ts';
import { imapEncode } from './imap-encode.ts';
import { mime } from './mime.ts';
import { sealed } from './sealed.ts';
import { smtpData } from './smtp-data.ts';
import { smtpReply } from './smtp-reply.ts';

export const TARGETS: readonly AnyTarget[] = [
  imapCommand,
  imapEncode,
  address,
  smtpData,
  smtpReply,
  mime,
  config,
  sealed,
];
