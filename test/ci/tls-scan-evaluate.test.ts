// The TLS gate's rules (.ci/gates/tls-scan/evaluate.ts) over testssl.sh 3.0.8 report
// lines in the exact form the real scans produce: a clean report passes, and each rule
// (severity, old protocol, no forward secrecy, no AEAD, client renegotiation, missing
// results) fails it. The whole gate, with a real server and real scans, is
// .ci/gates/10-tls-scan.sh; it also scans planted-flaw controls in every run.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  EXCLUSIONS,
  evaluate,
  type Finding,
  parseCipher,
  TOLERATED_SCAN_PROBLEMS,
} from '../../.ci/gates/tls-scan/evaluate.ts';

const f = (id: string, severity: string, finding: string): Finding => ({ id, severity, finding });

/** The shape of a Sealpost listener's report (abridged), as testssl 3.0.8 writes it. */
function cleanReport(): Finding[] {
  return [
    f('SSLv2', 'OK', 'not offered'),
    f('SSLv3', 'OK', 'not offered'),
    f('TLS1', 'INFO', 'not offered'),
    f('TLS1_1', 'INFO', 'not offered'),
    f('TLS1_2', 'OK', 'offered'),
    f('TLS1_3', 'OK', 'offered with final'),
    f('cert_revocation', 'HIGH', 'Neither CRL nor OCSP URI provided'),
    f('secure_renego', 'OK', 'supported'),
    f('secure_client_renego', 'OK', 'not vulnerable'),
    f(
      'cipher_x1302',
      'INFO',
      'x1302   TLS_AES_256_GCM_SHA384            ECDH 253   AESGCM      256      TLS_AES_256_GCM_SHA384',
    ),
    f(
      'cipher_xcca9',
      'INFO',
      'xcca9   ECDHE-ECDSA-CHACHA20-POLY1305     ECDH 253   ChaCha20    256      TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256',
    ),
  ];
}

const rules = (findings: Finding[]) => evaluate(findings).failures.map((x) => `${x.rule}:${x.id}`);

describe('TLS gate rules', () => {
  it('passes a clean report, waiving only the listed certificate-trust finding', () => {
    const v = evaluate(cleanReport());
    assert.deepEqual(v.failures, []);
    assert.deepEqual(
      v.excluded.map((e) => e.id),
      ['cert_revocation'],
    );
    assert.deepEqual(v.protocols, ['TLS1_2', 'TLS1_3']);
    assert.deepEqual(v.ciphers, ['TLS_AES_256_GCM_SHA384', 'ECDHE-ECDSA-CHACHA20-POLY1305']);
    assert.equal(v.counts['HIGH'], 1);
  });

  it('fails any MEDIUM, HIGH or CRITICAL finding that is not excluded', () => {
    for (const sev of ['MEDIUM', 'HIGH', 'CRITICAL'])
      assert.deepEqual(rules([...cleanReport(), f('BREACH', sev, 'potentially VULNERABLE')]), [
        'severity:BREACH',
      ]);
    assert.deepEqual(rules([...cleanReport(), f('DNS_CAArecord', 'LOW', 'not offered')]), []);
  });

  it('fails a protocol below TLS 1.2, and a missing protocol result', () => {
    const report = cleanReport().map((x) => (x.id === 'TLS1' ? f('TLS1', 'LOW', 'offered (deprecated)') : x));
    assert.deepEqual(rules(report), ['protocol:TLS1']);
    assert.deepEqual(rules(cleanReport().filter((x) => x.id !== 'SSLv3')), ['missing:SSLv3']);
  });

  it('fails a cipher without forward secrecy or without AEAD', () => {
    const rsa = f(
      'cipher_x9c',
      'INFO',
      'x9c     AES128-GCM-SHA256                 RSA        AESGCM      128      TLS_RSA_WITH_AES_128_GCM_SHA256',
    );
    const cbc = f(
      'cipher_xc013',
      'INFO',
      'xc013   ECDHE-RSA-AES128-SHA              ECDH 253   AES         128      TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA',
    );
    assert.deepEqual(rules([...cleanReport(), rsa]), ['cipher-fs:cipher_x9c']);
    assert.deepEqual(rules([...cleanReport(), cbc]), ['cipher-aead:cipher_xc013']);
    assert.deepEqual(rules(cleanReport().filter((x) => !x.id.startsWith('cipher_'))), ['missing:cipher_*']);
  });

  it('fails client-initiated renegotiation (a bare Node.js server), and a missing result', () => {
    const report = cleanReport().map((x) =>
      x.id === 'secure_client_renego' ? f(x.id, 'MEDIUM', 'VULNERABLE, potential DoS threat') : x,
    );
    assert.deepEqual(rules(report), [
      'severity:secure_client_renego',
      'client-renegotiation:secure_client_renego',
    ]);
    // Node's rate limit ends the connection after a few renegotiations: still accepted.
    const mitigated = cleanReport().map((x) =>
      x.id === 'secure_client_renego' ? f(x.id, 'OK', 'not vulnerable, mitigated') : x,
    );
    assert.deepEqual(rules(mitigated), ['client-renegotiation:secure_client_renego']);
    assert.deepEqual(rules(cleanReport().filter((x) => x.id !== 'secure_client_renego')), [
      'missing:secure_client_renego',
    ]);
  });

  it('tolerates only the listed scan problems, and only as WARN', () => {
    const warn = f('sessionresumption_ticket', 'WARN', 'check failed because of connect problem');
    assert.deepEqual(rules([...cleanReport(), warn]), []);
    assert.deepEqual(rules([...cleanReport(), f('scanProblem', 'WARN', 'connect problem')]), [
      'severity:scanProblem',
    ]);
    assert.deepEqual(rules([...cleanReport(), f('sessionresumption_ticket', 'MEDIUM', 'x')]), [
      'severity:sessionresumption_ticket',
    ]);
    assert.deepEqual(rules([...cleanReport(), f('scanProblem', 'FATAL', 'aborted')]), [
      'severity:scanProblem',
    ]);
  });

  it('keeps its exclusions to certificate trust, each with a reason', () => {
    for (const [id, reason] of Object.entries(EXCLUSIONS)) {
      assert.match(id, /^cert_/);
      assert.ok(reason.length > 40);
    }
    for (const reason of Object.values(TOLERATED_SCAN_PROBLEMS)) assert.ok(reason.length > 40);
  });

  it('parses testssl cipher lines with one- and two-word key exchange columns', () => {
    assert.deepEqual(
      parseCipher('xc02b   ECDHE-ECDSA-AES128-GCM-SHA256     ECDH 253   AESGCM      128      TLS_ECDHE_X'),
      { name: 'ECDHE-ECDSA-AES128-GCM-SHA256', kx: 'ECDH 253', enc: 'AESGCM' },
    );
    assert.deepEqual(
      parseCipher('x2f     AES128-SHA                        RSA        AES         128      TLS_RSA_X'),
      {
        name: 'AES128-SHA',
        kx: 'RSA',
        enc: 'AES',
      },
    );
    assert.equal(parseCipher('garbage'), null);
  });
});
