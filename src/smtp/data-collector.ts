// Collects the DATA stream of one message while enforcing the wire rules on it:
// - a bare CR or bare LF anywhere refuses the message (RFC 5321 §2.3.8; this is the
//   SMTP-smuggling defence: a next hop that treats LF.LF as the end could be made to
//   see two messages);
// - a NUL byte refuses it (RFC 5321 §4.5.2 allows none in text);
// - a line longer than the limit refuses it;
// - past the size limit nothing more is kept, but the stream is drained so that the
//   reply lands after the client's final dot (RFC 5321 §4.2.5).
// The stream must always be read to its end: smtp-server only then reads the next command.

import type { Readable } from 'node:stream';

export type DataProblem = 'bare-newline' | 'nul' | 'line-too-long' | 'too-big';

export interface CollectedData {
  readonly data: Buffer;
  readonly size: number;
  /** The first problem seen, if any; the data is not to be stored then. */
  readonly problem: DataProblem | null;
}

export interface CollectLimits {
  readonly maxBytes: number;
  readonly maxLineLength: number; // octets including CRLF
}

export function collectData(stream: Readable, limits: CollectLimits): Promise<CollectedData> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let problem: DataProblem | null = null;
    let prevCR = false; // last byte of the previous chunk was CR
    let lineLength = 0;
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (problem === null) {
        const scan = scanChunk(chunk, prevCR, lineLength, limits.maxLineLength);
        problem = scan.problem;
        prevCR = scan.endsWithCR;
        lineLength = scan.lineLength;
      }
      if (problem === null && size > limits.maxBytes) problem = 'too-big';
      if (problem === null) chunks.push(chunk);
    });
    stream.on('end', () => {
      // smtp-server strips the final CRLF.CRLF; a trailing lone CR is still bare.
      if (problem === null && prevCR) problem = 'bare-newline';
      resolve({ data: problem === null ? Buffer.concat(chunks, size) : Buffer.alloc(0), size, problem });
    });
    stream.on('error', reject);
  });
}

interface ScanResult {
  readonly problem: DataProblem | null;
  readonly endsWithCR: boolean;
  readonly lineLength: number;
}

/**
 * Scan one chunk, carrying CR state and line length across chunk boundaries. Uses
 * native indexOf to jump between CR and LF bytes rather than visiting every byte.
 */
export function scanChunk(
  chunk: Uint8Array,
  prevCR: boolean,
  lineLength: number,
  maxLine: number,
): ScanResult {
  const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  const maxText = maxLine - 2; // maxLine counts the CRLF
  const fail = (problem: DataProblem): ScanResult => ({ problem, endsWithCR: false, lineLength });
  if (buf.indexOf(0) !== -1) return fail('nul');
  let pos = 0;
  let len = lineLength;
  if (prevCR && buf.length > 0) {
    if (buf[0] !== 0x0a) return fail('bare-newline');
    pos = 1;
    len = 0;
  }
  let nextCR = buf.indexOf(0x0d, pos);
  let nextLF = buf.indexOf(0x0a, pos);
  while (pos < buf.length) {
    if (nextLF !== -1 && (nextCR === -1 || nextLF < nextCR)) return fail('bare-newline');
    const end = nextCR === -1 ? buf.length : nextCR;
    len += end - pos;
    if (len > maxText) return fail('line-too-long');
    if (nextCR === -1) return { problem: null, endsWithCR: false, lineLength: len };
    if (nextCR + 1 === buf.length) return { problem: null, endsWithCR: true, lineLength: len };
    if (buf[nextCR + 1] !== 0x0a) return fail('bare-newline');
    pos = nextCR + 2;
    len = 0;
    nextCR = buf.indexOf(0x0d, pos);
    nextLF = buf.indexOf(0x0a, pos);
  }
  return { problem: null, endsWithCR: prevCR && buf.length === 0, lineLength: len };
}
