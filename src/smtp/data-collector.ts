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

/** Scan one chunk, carrying CR state and line length across chunk boundaries. */
export function scanChunk(
  chunk: Uint8Array,
  prevCR: boolean,
  lineLength: number,
  maxLine: number,
): ScanResult {
  let cr = prevCR;
  let len = lineLength;
  for (let i = 0; i < chunk.length; i++) {
    const b = chunk[i]!;
    if (cr && b !== 0x0a) return { problem: 'bare-newline', endsWithCR: false, lineLength: len };
    if (b === 0x0a) {
      if (!cr) return { problem: 'bare-newline', endsWithCR: false, lineLength: len };
      cr = false;
      len = 0;
      continue;
    }
    if (b === 0x0d) {
      cr = true;
      len++;
      continue;
    }
    if (b === 0x00) return { problem: 'nul', endsWithCR: false, lineLength: len };
    len++;
    // maxLine counts the CRLF: the text may be maxLine - 2 octets.
    if (len > maxLine - 2) return { problem: 'line-too-long', endsWithCR: false, lineLength: len };
  }
  return { problem: null, endsWithCR: cr, lineLength: len };
}
