// Trace fields added at final delivery: Return-Path (RFC 5321 §4.4) and Received
// (RFC 5321 §4.4, with-protocol names of RFC 3848 and RFC 6531 §3.7.3).

export interface TraceInput {
  readonly helo: string;
  readonly clientHostname: string | null;
  readonly clientAddress: string;
  readonly hostname: string;
  readonly esmtp: boolean;
  readonly tls: boolean;
  readonly utf8: boolean;
  readonly id: string;
  readonly recipient: string | null; // only when there is exactly one
  readonly mailFrom: string; // '' for the null reverse-path
  readonly date: Date;
}

/** RFC 5322 §3.3 date-time in UTC: `Mon, 23 Nov 2026 19:20:00 +0000`. */
export function rfc5322Date(d: Date): string {
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${days[d.getUTCDay()]}, ${p(d.getUTCDate())} ${months[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

/** Keep only characters that cannot break out of a header or a comment. */
function clean(s: string): string {
  return s.replace(/[^A-Za-z0-9.\-:[\]_@+]/g, '').slice(0, 255);
}

export function traceHeaders(t: TraceInput): string {
  const proto = `${t.utf8 ? 'UTF8SMTP' : t.esmtp ? 'ESMTP' : 'SMTP'}${t.tls ? 'S' : ''}`;
  // smtp-server reports an unresolved client as "[address]": that is no host name.
  const named =
    t.clientHostname !== null && ![t.clientAddress, `[${t.clientAddress}]`].includes(t.clientHostname);
  const rdns = named ? `${clean(t.clientHostname ?? '')} ` : '';
  const lines = [
    `Return-Path: <${t.mailFrom.replace(/[\r\n<>]/g, '')}>`,
    `Received: from ${clean(t.helo) || 'unknown'} (${rdns}[${clean(t.clientAddress)}])`,
    `\tby ${t.hostname} (Sealpost) with ${proto} id ${t.id}`,
  ];
  if (t.recipient !== null) lines.push(`\tfor <${t.recipient}>;`);
  else lines[lines.length - 1] += ';';
  lines.push(`\t${rfc5322Date(t.date)}`);
  return `${lines.join('\r\n')}\r\n`;
}
