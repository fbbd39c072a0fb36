// The endpoint's identity on disk: private key (0600), certificate, trust bundle, client id —
// written atomically so a crash never leaves a half-written key or a key without its certificate.
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import forge from 'node-forge';
import { writeFileAtomic } from '@dc/service-kit';

export interface EndpointIdentity {
  readonly clientId: string;
  readonly keyPem: string;
  readonly certPem: string;
  readonly caPem: string;
  /** Epoch ms. */
  readonly notAfter: number;
}

export interface PendingKey {
  readonly keyPem: string;
  readonly csrPem: string;
}

/** A new RSA key (the CA accepts RSA ≥ 2048) and a CSR for it, subject empty: the CA assigns the client id. */
export function newKeyAndCsr(): PendingKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  csr.setSubject([]);
  csr.sign(forge.pki.privateKeyFromPem(keyPem), forge.md.sha256.create());
  return { keyPem, csrPem: forge.pki.certificationRequestToPem(csr) };
}

export class IdentityStore {
  constructor(readonly dir: string) {}

  get keyFile(): string {
    return join(this.dir, 'endpoint.key');
  }
  get certFile(): string {
    return join(this.dir, 'endpoint.crt');
  }
  get caFile(): string {
    return join(this.dir, 'ca.pem');
  }
  get metaFile(): string {
    return join(this.dir, 'identity.json');
  }

  exists(): boolean {
    return existsSync(this.metaFile) && existsSync(this.keyFile) && existsSync(this.certFile);
  }

  /** The stored identity, or undefined before enrolment. */
  load(): EndpointIdentity | undefined {
    if (!this.exists()) return undefined;
    const meta = JSON.parse(readFileSync(this.metaFile, 'utf8')) as { clientId?: unknown; notAfter?: unknown };
    if (typeof meta.clientId !== 'string' || typeof meta.notAfter !== 'number') {
      throw new Error(`${this.metaFile}: clientId (string) and notAfter (number) are required; re-enrol the endpoint`);
    }
    return {
      clientId: meta.clientId,
      notAfter: meta.notAfter,
      keyPem: readFileSync(this.keyFile, 'utf8'),
      certPem: readFileSync(this.certFile, 'utf8'),
      caPem: existsSync(this.caFile) ? readFileSync(this.caFile, 'utf8') : '',
    };
  }

  /** Writes key, certificate, bundle and then identity.json (the commit point). */
  save(id: EndpointIdentity): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    writeFileAtomic(this.keyFile, id.keyPem, { mode: 0o600 });
    writeFileAtomic(this.certFile, id.certPem, { mode: 0o644 });
    writeFileAtomic(this.caFile, id.caPem, { mode: 0o644 });
    writeFileAtomic(this.metaFile, `${JSON.stringify({ clientId: id.clientId, notAfter: id.notAfter }, null, 2)}\n`, { mode: 0o644 });
  }
}

/** notAfter of a PEM certificate, epoch ms. */
export function certificateNotAfter(certPem: string): number {
  return forge.pki.certificateFromPem(certPem).validity.notAfter.getTime();
}
