// TLS-RPT: the _smtp._tls record (read through the resolver from the local DNS server), the
// daily tallies and the JSON report format of RFC 8460 §4.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type DnsTestServer, startDnsServer } from '../../test/support/dns-server.ts';
import { createDnsResolver } from '../net/dns.ts';
import {
  buildTlsRptReport,
  parseTlsRptRecord,
  type TlsRptPolicy,
  TlsRptRecorder,
  tlsaStrings,
  tlsRptFilename,
  tlsRptSubject,
} from './tls-rpt.ts';

describe('parseTlsRptRecord (RFC 8460 §3)', () => {
  let dns: DnsTestServer;
  before(async () => {
    dns = await startDnsServer({
      '_smtp._tls.example.com': {
        TXT: [
          'v=spf1 -all',
          ['v=TLSRPTv1; rua=mailto:tls@example.com,', ' https://reports.example.com/tlsrpt'],
        ],
      },
    });
  });
  after(() => dns.close());

  it('reads mailto and https URIs from the record', async () => {
    const resolver = createDnsResolver({ servers: [`127.0.0.1:${dns.port}`], timeoutMs: 2000 });
    const parsed = parseTlsRptRecord(await resolver.resolve('_smtp._tls.example.com', 'TXT'));
    assert.deepEqual(parsed, {
      ok: true,
      value: {
        rua: [
          { kind: 'mailto', address: 'tls@example.com', uri: 'mailto:tls@example.com' },
          {
            kind: 'https',
            url: 'https://reports.example.com/tlsrpt',
            uri: 'https://reports.example.com/tlsrpt',
          },
        ],
      },
    });
  });

  it('refuses several records, no rua, and other URI schemes', () => {
    const refused = [
      [['v=TLSRPTv1; rua=mailto:a@example.com'], ['v=TLSRPTv1; rua=mailto:b@example.com']],
      [['v=TLSRPTv1;']],
      [['v=TLSRPTv1; ext=1']],
      [['v=TLSRPTv1; rua=http://insecure.example/']],
      [['v=TLSRPTv1; rua=ftp://x.example/']],
      [['v=TLSRPTv1; rua=mailto:not-an-address']],
      [['v=TLSRPTv2; rua=mailto:a@example.com']],
      [['v=TLSRPTv1; rua']],
      [],
    ];
    for (const records of refused)
      assert.equal(parseTlsRptRecord(records).ok, false, JSON.stringify(records));
    const ext = parseTlsRptRecord([['v=TLSRPTv1;ext=x; rua=mailto:a@example.com;']]);
    assert.ok(ext.ok);
  });
});

describe('TlsRptRecorder and buildTlsRptReport (RFC 8460 §4)', () => {
  const sts: TlsRptPolicy = {
    type: 'sts',
    domain: 'Company-Y.example',
    strings: ['version: STSv1', 'mode: testing', 'mx: *.mail.company-y.example', 'max_age: 86400'],
    mxHosts: ['*.mail.company-y.example'],
  };
  const day = '2026-12-01';
  const at = new Date(`${day}T12:00:00Z`);

  it('counts sessions per policy and merges identical failures into one detail', () => {
    const rec = new TlsRptRecorder();
    for (let i = 0; i < 5; i++) rec.record(sts, { ok: true }, at);
    const expired = {
      resultType: 'certificate-expired' as const,
      sendingMtaIp: '192.0.2.1',
      receivingMxHostname: 'mx1.mail.company-y.example',
      receivingIp: '203.0.113.56',
    };
    rec.record(sts, { ok: false, failure: expired }, at);
    rec.record(sts, { ok: false, failure: { ...expired } }, at);
    rec.record(
      sts,
      {
        ok: false,
        failure: { resultType: 'starttls-not-supported', receivingMxHostname: 'mx2.mail.company-y.example' },
      },
      at,
    );
    rec.record({ type: 'no-policy-found', domain: 'company-y.example' }, { ok: true }, at);
    rec.record(sts, { ok: true }, new Date('2026-12-02T00:00:00Z')); // the next day
    assert.deepEqual(rec.domains(day), ['company-y.example']);

    const report = buildTlsRptReport(rec, day, 'company-y.example', {
      organizationName: 'Sealpost Test',
      contactInfo: 'postmaster@sender.example',
      reportId: 'r-1',
    });
    assert.deepEqual(report, {
      'organization-name': 'Sealpost Test',
      'date-range': { 'start-datetime': '2026-12-01T00:00:00Z', 'end-datetime': '2026-12-01T23:59:59Z' },
      'contact-info': 'postmaster@sender.example',
      'report-id': 'r-1',
      policies: [
        {
          policy: {
            'policy-type': 'sts',
            'policy-string': sts.strings,
            'policy-domain': 'company-y.example',
            'mx-host': ['*.mail.company-y.example'],
          },
          summary: { 'total-successful-session-count': 5, 'total-failure-session-count': 3 },
          'failure-details': [
            {
              'result-type': 'certificate-expired',
              'sending-mta-ip': '192.0.2.1',
              'receiving-mx-hostname': 'mx1.mail.company-y.example',
              'receiving-ip': '203.0.113.56',
              'failed-session-count': 2,
            },
            {
              'result-type': 'starttls-not-supported',
              'receiving-mx-hostname': 'mx2.mail.company-y.example',
              'failed-session-count': 1,
            },
          ],
        },
        {
          policy: { 'policy-type': 'no-policy-found', 'policy-domain': 'company-y.example' },
          summary: { 'total-successful-session-count': 1, 'total-failure-session-count': 0 },
        },
      ],
    });
    assert.equal(
      buildTlsRptReport(rec, '2026-11-30', 'company-y.example', { organizationName: 'x', contactInfo: 'y' }),
      undefined,
    );
    rec.forget(day);
    assert.deepEqual(rec.domains(day), []);
    assert.deepEqual(rec.domains('2026-12-02'), ['company-y.example']);
  });

  it('gives a random report id, TLSA policy strings, and the §5 file name and subject', () => {
    const rec = new TlsRptRecorder();
    const records = [{ usage: 3, selector: 1, matchingType: 1, data: Buffer.from('abcd', 'hex') }];
    rec.record(
      { type: 'tlsa', domain: 'd.example', strings: tlsaStrings(records), mxHosts: ['mx.d.example'] },
      { ok: true },
      at,
    );
    const report = buildTlsRptReport(rec, day, 'd.example', { organizationName: 'o', contactInfo: 'c' });
    assert.match(String(report?.['report-id']), /^[0-9a-f-]{36}$/);
    const policies = report?.['policies'] as Array<{ policy: Record<string, unknown> }>;
    assert.deepEqual(policies[0]?.policy['policy-string'], ['3 1 1 abcd']);
    assert.equal(
      tlsRptFilename('mail.sender.example', 'd.example', day, '001'),
      'mail.sender.example!d.example!1796083200!1796169599!001.json.gz',
    );
    assert.equal(
      tlsRptSubject('d.example', 'mail.sender.example', 'abc@sender.example'),
      'Report Domain: d.example Submitter: mail.sender.example Report-ID: <abc@sender.example>',
    );
  });
});
