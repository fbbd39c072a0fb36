// Enrolment and renewal of endpoint certificates (SPEC 1.4.5, DESIGN flow 2): the endpoint's
// CSR and enrolment token go to the CA; the broker records the identity it got.
import { InvalidArgument } from '@dc/service-kit';
import type { Logger } from 'pino';
import type { Clock } from '../clock';
import type { EventLog } from '../events/event-log';
import type { EndpointRegistry } from '../registry/endpoint-registry';
import type { CertificateIssuer, IssuedEndpointCertificate } from './certificate-issuer';

const MAX_HOSTNAME = 253;

export class Enrolment {
  constructor(private readonly deps: { issuer: CertificateIssuer; registry: EndpointRegistry; events: EventLog; clock: Clock; log: Logger }) {}

  async enrol(req: { csrPem: string; enrolmentToken: string; hostName: string; os: string; remoteAddress: string }): Promise<IssuedEndpointCertificate> {
    if (!req.csrPem.includes('BEGIN CERTIFICATE REQUEST')) throw new InvalidArgument('csr_pem', 'must be a PEM "CERTIFICATE REQUEST" block', req.csrPem.slice(0, 40));
    if (!req.enrolmentToken) throw new InvalidArgument('enrolment_token', 'is required');
    if (req.hostName.length > MAX_HOSTNAME) throw new InvalidArgument('host_name', `must be at most ${MAX_HOSTNAME} characters`, req.hostName);
    let issued: IssuedEndpointCertificate;
    try {
      issued = await this.deps.issuer.enrolEndpoint({ csrPem: req.csrPem, enrolmentToken: req.enrolmentToken, hostName: req.hostName });
    } catch (err) {
      // Remember the failed attempt under its host name, so TestConnection can say "never enrolled" (SPEC 1.6).
      const reason = (err as Error).message;
      const key = `unenrolled:${(req.hostName || req.remoteAddress).toLowerCase()}`;
      const now = this.deps.clock.now();
      if (!this.deps.registry.get(key) || this.deps.registry.get(key)?.enrolment === 'NOT_ENROLLED') {
        this.deps.registry.upsert(key, { hostname: req.hostName, ips: req.remoteAddress ? [req.remoteAddress] : [], enrolment: 'NOT_ENROLLED', enrolmentDetail: `enrolment refused at ${new Date(now).toISOString()}: ${reason}` }, now);
      }
      this.deps.events.record('ENDPOINT_ENROLMENT_REFUSED', null, 'endpoint enrolment refused', { hostName: req.hostName, remoteAddress: req.remoteAddress, reason });
      throw err;
    }
    const now = this.deps.clock.now();
    this.deps.registry.upsert(issued.clientId, {
      enrolment: 'ENROLLED', enrolmentDetail: null, hostname: req.hostName, os: req.os,
      ips: req.remoteAddress ? [req.remoteAddress] : [], enrolledAt: now, certSerial: issued.serial, certNotAfter: issued.notAfter.getTime(),
    }, now);
    this.deps.events.record('ENDPOINT_ENROLLED', issued.clientId, 'endpoint enrolled', { hostName: req.hostName, serial: issued.serial, notAfter: issued.notAfter.toISOString() });
    this.deps.log.info({ clientId: issued.clientId, hostName: req.hostName }, 'endpoint enrolled');
    return issued;
  }

  async renew(clientId: string, currentSerial: string, csrPem: string): Promise<IssuedEndpointCertificate> {
    if (!csrPem.includes('BEGIN CERTIFICATE REQUEST')) throw new InvalidArgument('csr_pem', 'must be a PEM "CERTIFICATE REQUEST" block', csrPem.slice(0, 40));
    const issued = await this.deps.issuer.renewEndpoint({ clientId, currentSerial, csrPem });
    this.deps.registry.upsert(clientId, { enrolment: 'ENROLLED', certSerial: issued.serial, certNotAfter: issued.notAfter.getTime() }, this.deps.clock.now());
    this.deps.events.record('ENDPOINT_CERTIFICATE_RENEWED', clientId, 'endpoint certificate renewed', { serial: issued.serial, previousSerial: currentSerial, notAfter: issued.notAfter.toISOString() });
    return issued;
  }
}
