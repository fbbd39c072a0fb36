// What the broker needs from the certificate authority, declared beside its use (STYLE):
// enrolment (CSR + enrolment token), renewal, and the revocation list.

/** A client certificate issued to an endpoint. */
export interface IssuedEndpointCertificate {
  /** The client id the CA assigned (in the certificate's CN and URI SAN). */
  readonly clientId: string;
  /** Leaf first, PEM. */
  readonly certificateChainPem: string;
  /** The roots endpoints trust, PEM. */
  readonly trustBundlePem: string;
  /** Serial, lowercase hex without leading zeros. */
  readonly serial: string;
  readonly notAfter: Date;
}

export interface CertificateIssuer {
  /** Signs an endpoint's CSR against its enrolment token; Unauthenticated for a bad, used or expired token. */
  enrolEndpoint(req: { csrPem: string; enrolmentToken: string; hostName: string }): Promise<IssuedEndpointCertificate>;
  /** Issues the endpoint a new certificate for a new key, keeping its client id. */
  renewEndpoint(req: { clientId: string; currentSerial: string; csrPem: string }): Promise<IssuedEndpointCertificate>;
}

/** The CA's revocation list as the gateway enforces it (refreshed in the background). */
export interface RevocationList {
  isRevoked(serial: string): boolean;
}

/** Normalises a serial as printed by OpenSSL/Node ("0A1B") or forge ("0a1b") to "a1b". */
export function normaliseSerial(serial: string): string {
  return serial.replace(/[^0-9a-f]/gi, '').toLowerCase().replace(/^0+(?=.)/, '');
}
