// How an endpoint is named by its client certificate: the rule the gateway (:17475) and the
// zone proxy (:17486) must apply alike, so an endpoint is the same endpoint on either route.
import type { PeerCertificate } from 'node:tls';

const ENDPOINT_URI = 'URI:urn:dc:endpoint:';

/** The client id from the `urn:dc:endpoint:<id>` URI SAN the CA writes, else the subject CN; '' if neither. */
export function endpointIdOf(cert: Pick<PeerCertificate, 'subject' | 'subjectaltname'>): string {
  const uri = cert.subjectaltname?.split(/,\s*/).find((s) => s.startsWith(ENDPOINT_URI));
  if (uri) return uri.slice(ENDPOINT_URI.length);
  const cn = cert.subject?.CN as string | string[] | undefined;
  return (Array.isArray(cn) ? cn[0] : cn) ?? '';
}

/** OpenSSL verification errors meaning the certificate was not issued by a CA we trust. */
export const UNKNOWN_CA_ERRORS: ReadonlySet<string> = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
]);
