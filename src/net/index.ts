// Public surface of src/net: readiness-gated listeners (DESIGN invariant 10) and
// per-address / total connection limits (invariant 11).

export { addressKey, ConnectionLimiter, type ConnectionLimits } from './connection-limits.ts';
export {
  ensureReady,
  type ListenerOptions,
  type OpenListener,
  openListener,
  type ReadinessCheck,
} from './listener.ts';
