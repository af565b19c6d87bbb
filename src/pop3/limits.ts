// Every POP3 size and time limit in one place, so the framing, the grammar and the
// connection cannot drift apart (STYLE.md). Limits that an operator tunes live in
// config.pop3 (connections, timeouts, max_unauthenticated_commands); these are the
// protocol's own.

/** RFC 2449 §4: a command line is at most 255 octets, CRLF included. */
export const MAX_COMMAND_LINE = 255;

/**
 * A client's response to an AUTH continuation (RFC 5034 §4) is not a command and is
 * not held to 255 octets: PLAIN with a 320-octet user and a 1024-octet password is
 * about 1,800 base64 characters.
 */
export const MAX_AUTH_LINE = 4096;

/**
 * Bytes of one over-long line the reader swallows while waiting for its end before
 * it gives up on the connection (a client that never sends LF).
 */
export const MAX_DISCARD = 64 * 1024;

/** Protocol errors (unknown command, bad syntax, line too long) before the connection is closed. */
export const MAX_PROTOCOL_ERRORS = 10;

/** Unread input above which the socket is paused (pipelined commands wait in the reader). */
export const INPUT_HIGH_WATER = 64 * 1024;
export const INPUT_LOW_WATER = 16 * 1024;

/** Output is written in chunks of this size, waiting for 'drain' between them (RETR, TOP). */
export const OUTPUT_CHUNK = 64 * 1024;

/** The maildrop lock (RFC 1939 §8): its lifetime, renewed while the session lives. */
export const LOCK_TTL_MS = 60_000;
export const LOCK_REFRESH_MS = 20_000;

/** Digits a message number or a line count may have (2^32 fits in 10). */
export const MAX_NUMBER_DIGITS = 10;
