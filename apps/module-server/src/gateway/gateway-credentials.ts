// TLS for the endpoint gateway (:17475): the server certificate, and client certificates
// requested but checked per call (peer-identity.ts) — Enrol must be reachable without one, and
// a refused certificate must leave a reason the operator can read (SPEC 3.4).
import { ServerCredentials } from '@grpc/grpc-js';
import type { TlsPem } from '@dc/service-kit';

export function gatewayCredentials(pem: TlsPem): ServerCredentials {
  if (!pem.certPem || !pem.keyPem) throw new Error('the gateway needs a server certificate and key');
  const creds = ServerCredentials.createSsl(Buffer.from(pem.caPem), [{ cert_chain: Buffer.from(pem.certPem), private_key: Buffer.from(pem.keyPem) }], true);
  // createSsl(…, true) both requests and enforces client certificates; keep the request, move the
  // enforcement into the handlers, where the refusal reason can be recorded for the endpoint.
  const original = creds._getConstructorOptions.bind(creds);
  creds._getConstructorOptions = () => ({ ...original(), requestCert: true, rejectUnauthorized: false });
  return creds;
}
