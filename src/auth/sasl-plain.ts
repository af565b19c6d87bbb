// SASL PLAIN (RFC 4616) as the mail protocols receive it (IMAP AUTHENTICATE,
// RFC 9051 §6.2.2 with SASL-IR RFC 4959; POP3 AUTH, RFC 5034): strict base64 and
// the [authzid] NUL authcid NUL passwd message. No proxy authorisation: an
// authzid other than the user is refused.

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Strict base64 (RFC 4648 §4, padded, no whitespace); "=" alone is the empty response. */
export function decodeBase64(text: string): Buffer | null {
  if (text === '=') return Buffer.alloc(0);
  if (text === '' || !BASE64.test(text)) return null;
  return Buffer.from(text, 'base64');
}

/** RFC 4616: message = [authzid] NUL authcid NUL passwd. */
export function parsePlain(data: Buffer): { user: string; password: string } | null {
  const first = data.indexOf(0);
  const second = first < 0 ? -1 : data.indexOf(0, first + 1);
  if (first < 0 || second < 0 || data.indexOf(0, second + 1) >= 0) return null;
  const authzid = data.toString('utf8', 0, first);
  const user = data.toString('utf8', first + 1, second);
  const password = data.toString('utf8', second + 1);
  if (user === '' || password === '') return null;
  if (authzid !== '' && authzid !== user) return null;
  return { user, password };
}
