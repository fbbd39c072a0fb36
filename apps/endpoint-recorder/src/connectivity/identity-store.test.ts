import { statSync } from 'node:fs';
import { makeTempDir } from '@dc/service-kit/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { classifyConnectError } from './connect-failure';
import { IdentityStore, newKeyAndCsr } from './identity-store';
import { commonV1 as common } from '@dc/proto';

describe('endpoint identity on disk', () => {
  const tmp = makeTempDir('dc-id-');
  afterEach(() => tmp.remove());

  it('stores the key with mode 0600 and reads the identity back', () => {
    const store = new IdentityStore(`${tmp.dir}/id`);
    expect(store.load()).toBeUndefined();
    const { keyPem, csrPem } = newKeyAndCsr();
    expect(csrPem).toContain('BEGIN CERTIFICATE REQUEST');
    store.save({ clientId: 'c1', keyPem, certPem: 'CERT', caPem: 'CA', notAfter: 123 });
    expect(statSync(store.keyFile).mode & 0o777).toBe(0o600);
    expect(store.load()).toEqual({ clientId: 'c1', keyPem, certPem: 'CERT', caPem: 'CA', notAfter: 123 });
  });
});

describe('naming a failed connection', () => {
  const C = common.TlsFailureCause;
  it.each([
    ['14 UNAVAILABLE: Name resolution failed for target dns:nohost:17475', undefined, 'resolve', C.TLS_FAILURE_CAUSE_UNSPECIFIED, undefined],
    ['No connection established. Last error: connect ECONNREFUSED 127.0.0.1:17475', undefined, 'tcp', C.TLS_FAILURE_CAUSE_UNSPECIFIED, undefined],
    ['certificate revoked', 16, 'tls', C.TLS_FAILURE_CAUSE_CERTIFICATE_REVOKED, 'broker'],
    ['client certificate expired Jan 1 2020 (CERT_HAS_EXPIRED)', 16, 'tls', C.TLS_FAILURE_CAUSE_CERTIFICATE_EXPIRED, 'broker'],
    ['No connection established. Last error: certificate has expired', undefined, 'tls', C.TLS_FAILURE_CAUSE_CERTIFICATE_EXPIRED, 'endpoint'],
    ['No connection established. Last error: self-signed certificate in certificate chain', undefined, 'tls', C.TLS_FAILURE_CAUSE_UNKNOWN_CA, 'endpoint'],
    ['certificate is not yet valid', undefined, 'tls', C.TLS_FAILURE_CAUSE_CLOCK_SKEW, 'endpoint'],
  ])('%s → %s', (text, code, step, cause, refusedBy) => {
    const c = classifyConnectError(text, code);
    expect([c.step, c.tlsCause, c.refusedBy]).toEqual([step, cause, refusedBy]);
  });
});
