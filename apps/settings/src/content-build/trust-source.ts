// Where the content build gets the CA trust bundle and enrolment tokens: the certificate authority (dc.ca.v1).

export interface EnrolmentToken {
  tokenId: string;
  /** The secret endpoints present at enrolment. */
  token: string;
  expiresAt: Date;
}

/** The seam to the certificate authority; the gRPC implementation is ca-trust-source.ts. */
export interface TrustSource {
  /** PEM of the CA certificates endpoints must trust. */
  trustBundle(): Promise<string>;
  /** A time-limited token (any number of enrolments until it expires) for the packages of one build. */
  createEnrolmentToken(request: { label: string; ttlSeconds: number }): Promise<EnrolmentToken>;
}
