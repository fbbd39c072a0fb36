import type { PeerCertificate } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { endpointIdOf } from './endpoint-identity';

const cert = (subject: Record<string, unknown>, subjectaltname?: string) =>
  ({ subject, subjectaltname }) as unknown as Pick<PeerCertificate, 'subject' | 'subjectaltname'>;

describe('endpointIdOf', () => {
  it('takes the urn:dc:endpoint URI SAN over the CN', () => {
    expect(endpointIdOf(cert({ CN: 'ignored' }, 'DNS:host.example, URI:urn:dc:endpoint:7f3a-1'))).toBe('7f3a-1');
  });
  it('falls back to the first CN, and to empty when the certificate names no endpoint', () => {
    expect(endpointIdOf(cert({ CN: ['web-01', 'x'] }, 'URI:urn:dc:service:settings'))).toBe('web-01');
    expect(endpointIdOf(cert({}))).toBe('');
  });
});
