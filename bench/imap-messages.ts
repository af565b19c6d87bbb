// Mail for the IMAP benchmarks: deterministic, realistic RFC 5322 messages of 2–20 KB
// (log-uniform, so most are small) in five MIME shapes — plain text; multipart/alternative
// (text + HTML, quoted-printable); multipart/mixed with a base64 PDF; UTF-8 text with an
// RFC 2047 subject; multipart/mixed holding an alternative part and a base64 image.
// Subjects are three words of SUBJECT_WORDS, so `SEARCH SUBJECT <word>` matches a few
// hundred messages in ten thousand. Invariants: message i is the same bytes on every run;
// lines end in CRLF and stay under 78 octets; every message has a distinct Message-ID.

/** Words the subjects are made of (and what the benchmark searches for). */
export const SUBJECT_WORDS = (
  'budget invoice meeting agenda report quarterly review draft contract proposal ' +
  'schedule release update summary minutes travel expenses hiring roadmap launch ' +
  'offsite training security audit backup migration payroll newsletter survey ' +
  'feedback deadline shipment order renewal warranty onboarding workshop webinar ' +
  'partnership forecast'
).split(' ');

const BODY_WORDS = (
  'the team agreed to move the review to next week while the numbers are checked again ' +
  'please find the latest version attached and let me know if anything is missing we ' +
  'should also plan time for the follow up questions from the customers and partners ' +
  'thanks for your help with this everyone did a great job on a short deadline'
).split(' ');

const PEOPLE: readonly (readonly [name: string, address: string])[] = [
  ['Alice Martin', 'alice@example.org'],
  ['Bob Chen', 'bob.chen@example.com'],
  ['=?UTF-8?Q?Carla_D=C3=ADaz?=', 'carla@example.net'],
  ['David Okafor', 'd.okafor@example.org'],
  ['=?UTF-8?Q?=C3=89milie_Laurent?=', 'emilie@example.fr'],
  ['Farid Haddad', 'farid@example.org'],
];

/** mulberry32: a small deterministic PRNG, uniform in [0, 1). */
export function prng(seed: number): () => number {
  // the murmur3 finalizer first, so that neighbouring seeds start far apart
  let a = Math.imul(seed ^ (seed >>> 16), 0x85ebca6b);
  a = Math.imul(a ^ (a >>> 13), 0xc2b2ae35);
  a = (a ^ (a >>> 16)) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(rand: () => number, list: readonly T[]): T {
  return list[Math.floor(rand() * list.length)]!;
}

/** Text of about `bytes` octets in CRLF lines of at most 72 characters. */
function prose(rand: () => number, bytes: number): string {
  const lines: string[] = [];
  let total = 0;
  while (total < bytes) {
    let line = '';
    while (line.length < 60) line += `${pick(rand, BODY_WORDS)} `;
    line = line.trimEnd();
    lines.push(line);
    total += line.length + 2;
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** Base64 of `bytes` pseudo-random octets, in lines of 76 characters. */
function base64Blob(rand: () => number, bytes: number): string {
  const raw = Buffer.alloc(Math.max(1, Math.floor(bytes)));
  for (let i = 0; i < raw.length; i++) raw[i] = Math.floor(rand() * 256);
  const b64 = raw.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 76) lines.push(b64.slice(i, i + 76));
  return `${lines.join('\r\n')}\r\n`;
}

/** Quoted-printable of UTF-8 text (soft breaks keep lines short). */
function qp(text: string): string {
  return text
    .split('\r\n')
    .map((line) => {
      let out = '';
      let col = 0;
      for (const byte of Buffer.from(line, 'utf8')) {
        const lit =
          byte === 61 || byte > 126
            ? `=${byte.toString(16).toUpperCase().padStart(2, '0')}`
            : String.fromCharCode(byte);
        if (col + lit.length > 73) {
          out += '=\r\n';
          col = 0;
        }
        out += lit;
        col += lit.length;
      }
      return out;
    })
    .join('\r\n');
}

function html(text: string): string {
  const paras = text
    .trimEnd()
    .split('\r\n')
    .map((l) => `<p>${l}</p>`);
  return `<!DOCTYPE html>\r\n<html><body style="font-family:sans-serif">\r\n${paras.join('\r\n')}\r\n</body></html>\r\n`;
}

function part(type: string, encoding: string, body: string, extra = ''): string {
  return `Content-Type: ${type}\r\nContent-Transfer-Encoding: ${encoding}\r\n${extra}\r\n${body}`;
}

function multipart(
  subtype: string,
  boundary: string,
  parts: readonly string[],
): { type: string; body: string } {
  const body = `${parts.map((p) => `--${boundary}\r\n${p}`).join('\r\n')}\r\n--${boundary}--\r\n`;
  return { type: `multipart/${subtype}; boundary="${boundary}"`, body };
}

/** Message number `i` of the set labelled `set` (the same bytes every time). */
export function benchMessage(i: number, set = 'seed'): Buffer {
  const rand = prng(i * 7919 + set.length * 104729 + 1);
  const target = Math.round(2048 * 10 ** rand()); // 2 KiB .. 20 KiB, log-uniform
  const shape = i % 5;
  const subjectWords = [pick(rand, SUBJECT_WORDS), pick(rand, SUBJECT_WORDS), pick(rand, SUBJECT_WORDS)];
  const [fromName, fromAddress] = pick(rand, PEOPLE);
  const date = new Date(Date.UTC(2024, 0, 1) + i * 3_600_000).toUTCString().replace('GMT', '+0000');
  const b = `b${i}-${set}-${Math.floor(rand() * 1e9).toString(36)}`;
  let subject = `${subjectWords.join(' ')} #${i}`;
  let content: { type: string; encoding?: string; body: string };
  const text = (bytes: number) => prose(rand, bytes);
  switch (shape) {
    case 0:
      content = { type: 'text/plain; charset=us-ascii', encoding: '7bit', body: text(target - 700) };
      break;
    case 1: {
      const t = text((target - 1000) / 2.2);
      content = multipart('alternative', b, [
        part('text/plain; charset=utf-8', 'quoted-printable', qp(t)),
        part('text/html; charset=utf-8', 'quoted-printable', qp(html(t))),
      ]);
      break;
    }
    case 2:
      content = multipart('mixed', b, [
        part('text/plain; charset=utf-8', '7bit', text(600)),
        part(
          'application/pdf; name="report.pdf"',
          'base64',
          base64Blob(rand, (target - 1250) * 0.74),
          'Content-Disposition: attachment; filename="report.pdf"\r\n',
        ),
      ]);
      break;
    case 3:
      subject = `=?UTF-8?Q?${qp(`Réunion ${subjectWords[0]}`).replace(/ /g, '_')}?= ${subjectWords[1]} ${subjectWords[2]} #${i}`;
      content = {
        type: 'text/plain; charset=utf-8',
        encoding: 'quoted-printable',
        body: qp(`Bonjour à tous,\r\n\r\n${text(target - 800)}`),
      };
      break;
    default: {
      const t = text(Math.min(1500, target / 4));
      const alt = multipart('alternative', `${b}-alt`, [
        part('text/plain; charset=utf-8', '7bit', t),
        part('text/html; charset=utf-8', 'quoted-printable', qp(html(t))),
      ]);
      content = multipart('mixed', b, [
        `Content-Type: ${alt.type}\r\n\r\n${alt.body}`,
        part(
          'image/png; name="chart.png"',
          'base64',
          base64Blob(rand, Math.max(300, (target - 3200) * 0.74)),
          'Content-Disposition: inline; filename="chart.png"\r\n',
        ),
      ]);
    }
  }
  const headers = [
    `Return-Path: <${fromAddress}>`,
    `From: ${fromName} <${fromAddress}>`,
    'To: Bench User <bench@bench.test>',
    `Subject: ${subject}`,
    `Date: ${date}`,
    `Message-ID: <${set}.${i}@example.org>`,
    'MIME-Version: 1.0',
    `Content-Type: ${content.type}`,
    ...('encoding' in content && content.encoding !== undefined
      ? [`Content-Transfer-Encoding: ${content.encoding}`]
      : []),
  ];
  return Buffer.from(`${headers.join('\r\n')}\r\n\r\n${content.body}`, 'utf8');
}
