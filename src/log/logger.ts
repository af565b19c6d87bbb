// Structured JSON logging (pino). One root logger per process; a child per
// connection carries its id, protocol and account. Never pass passwords, tokens,
// keys or message content to a logger: the redact list is a second line of defence.

import { type Logger, pino } from 'pino';

export type { Logger };

const REDACT = [
  'password',
  '*.password',
  'pass',
  '*.pass',
  'token',
  '*.token',
  'key',
  '*.key',
  'secret',
  '*.secret',
  'authorization',
  '*.authorization',
];

export function createLogger(level: string, destination: number = 1): Logger {
  return pino(
    { level, base: { pid: process.pid }, redact: { paths: REDACT, censor: '[redacted]' } },
    pino.destination({ dest: destination, sync: false }),
  );
}

/** A logger that writes nothing (CLI commands, tests). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
