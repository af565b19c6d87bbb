// Public surface of src/tls: the one TLS policy every listener and outbound
// connection uses (DESIGN invariant 2), certificate validation and hot reload from
// files (invariant 10: a listener opens only with a valid certificate), and
// self-signed development certificates.

export {
  attachToTlsServer,
  type CertificateInfo,
  CertificateSource,
  type CertificateSourceOptions,
  type LoadedCertificate,
  parseAltNames,
  tlsServerOptions,
  validateCertificate,
} from './certificates.ts';
export {
  type CertificatePem,
  type DevCertificateOptions,
  generateDevCertificate,
  writeDevCertificate,
} from './dev-certificate.ts';
export {
  createServerSecureContext,
  supportedGroups,
  TLS_POLICY,
  tlsClientPolicyOptions,
  tlsPolicyOptions,
  unsupportedGroups,
} from './policy.ts';
