// Keeps key material out of logs: objects holding keys describe themselves without
// their secrets when serialised (JSON.stringify, pino) or inspected (console.log,
// util.inspect, assertion messages).
//
// Invariant: the description never contains a key byte. The hooks are non-enumerable,
// so spreading or deep-comparing the object sees only its declared fields.

const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/** Attach secret-free toJSON/inspect hooks to `target` and freeze it. */
export function redacted<T extends object>(target: T, describe: () => Record<string, unknown>): T {
  Object.defineProperty(target, 'toJSON', { value: describe, enumerable: false });
  Object.defineProperty(target, INSPECT, { value: describe, enumerable: false });
  return Object.freeze(target);
}

export const REDACTED = '[redacted]';
