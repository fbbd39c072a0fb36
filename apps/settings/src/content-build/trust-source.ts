// Where the content build gets the CA trust bundle and enrolment tokens: the certificate authority (dc.ca.v1).

export interface EnrolmentToken {
  token: string;
  expiresAt: Date;
}

/** The seam to the certificate authority; the gRPC implementation lives in ca-trust-source.ts. */
export interface TrustSource {
  /** PEM of the CA certificates endpoints must trust. */
  trustBundle(): Promise<string>;
  /** A time-limited token endpoints present at enrolment to obtain their client certificate. */
  createEnrolmentToken(request: { description: string; ttlSeconds: number }): Promise<EnrolmentToken>;
}
