// Reading a new password for the CLI without putting it on the command line (where
// `ps` and shell history would see it): prompted twice without echo on a terminal,
// read as the first line of standard input otherwise, or generated with --generate.

import { randomInt } from 'node:crypto';
import { createInterface } from 'node:readline';
import { SealpostError } from '../core/errors.ts';
import type { Io } from './context.ts';

const WORDS_ALPHABET = 'abcdefghijkmnopqrstuvwxyz23456789';

/** 4 groups of 5 characters from a 33-symbol alphabet: about 100 bits. */
export function generatePassword(): string {
  const groups: string[] = [];
  for (let g = 0; g < 4; g++) {
    let s = '';
    for (let i = 0; i < 5; i++) s += WORDS_ALPHABET[randomInt(WORDS_ALPHABET.length)];
    groups.push(s);
  }
  return groups.join('-');
}

export async function readNewPassword(io: Io, prompt = 'New password: '): Promise<string> {
  if (io.stdin.isTTY) {
    const first = await promptHidden(io, prompt);
    const second = await promptHidden(io, 'Repeat password: ');
    if (first !== second) throw new SealpostError('input.invalid', 'the two passwords differ');
    return first;
  }
  const line = await firstLine(io.stdin);
  if (line === null || line === '') {
    throw new SealpostError(
      'input.invalid',
      'no password given: pipe it on standard input, or use --generate',
    );
  }
  return line;
}

function firstLine(stream: NodeJS.ReadableStream): Promise<string | null> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: stream });
    let done = false;
    rl.once('line', (l) => {
      done = true;
      rl.close();
      resolve(l);
    });
    rl.once('close', () => {
      if (!done) resolve(null);
    });
  });
}

function promptHidden(io: Io, prompt: string): Promise<string> {
  return new Promise((resolve) => {
    const stdin = io.stdin as NodeJS.ReadStream;
    process.stderr.write(prompt);
    stdin.setRawMode?.(true);
    let value = '';
    const onData = (buf: Buffer) => {
      for (const ch of buf.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          stdin.setRawMode?.(false);
          stdin.off('data', onData);
          stdin.pause();
          process.stderr.write('\n');
          resolve(value);
          return;
        }
        if (ch === '\u0003') process.exit(130);
        if (ch === '\u007f') value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.on('data', onData);
    stdin.resume();
  });
}
