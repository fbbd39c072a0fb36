// CSR parsing and verification, and the endpoint name rule, table by table.
import { generateKeyPairSync } from 'node:crypto';
import forge from 'node-forge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { opensslCsr, rsaKey, tempDir } from '../testing/helpers';
import { checkEndpointCsrNames, parseAndVerifyCsr } from './csr';

let tmp: ReturnType<typeof tempDir>;
let key: string;
let good: string;

beforeAll(() => {
  tmp = tempDir();
  key = rsaKey().privateKeyPem;
  good = opensslCsr(tmp.dir, key, '/CN=host-1');
});
afterAll(() => tmp.cleanup());

/** A CSR holding one public key but signed with another key. */
function signedByAnotherKey(): string {
  const holder = forge.pki.privateKeyFromPem(rsaKey().privateKeyPem) as forge.pki.rsa.PrivateKey;
  const signer = forge.pki.privateKeyFromPem(rsaKey().privateKeyPem) as forge.pki.rsa.PrivateKey;
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forge.pki.setRsaPublicKey(holder.n, holder.e);
  csr.setSubject([{ shortName: 'CN', value: 'host-1' }]);
  csr.sign(signer, forge.md.sha256.create());
  return forge.pki.certificationRequestToPem(csr);
}

function withFlippedSignatureByte(pem: string): string {
  const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  der[der.length - 1]! ^= 0x01;
  return `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
}

describe('parseAndVerifyCsr', () => {
  it('accepts a CSR made by openssl req and reports its subject', () => {
    const csr = parseAndVerifyCsr(good);
    expect(csr.subject).toEqual(['CN=host-1']);
    expect(csr.requestedAltNames).toEqual([]);
  });

  const cases: Array<[string, () => string, string]> = [
    ['text that is not PEM', () => 'hello', 'csr_pem "hello": must be a PEM "CERTIFICATE REQUEST" block'],
    ['a PEM block with garbage inside', () => '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n', 'is not a well-formed PKCS#10'],
    ['a CSR with a tampered signature', () => withFlippedSignatureByte(good), 'signature does not verify'],
    ['a CSR signed with a key other than the one it holds', signedByAnotherKey, 'signature does not verify'],
    ['a 1024-bit RSA key', () => opensslCsr(tmp.dir, rsaKey(1024).privateKeyPem), 'the RSA key has 1024 bits; at least 2048 are required'],
    [
      'an EC key',
      () => opensslCsr(tmp.dir, generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()),
      'the key must be RSA',
    ],
    ['a SHA-1 signature', () => opensslCsr(tmp.dir, key, '/CN=host-1', ['-sha1']), 'signature algorithm sha1WithRSAEncryption is not accepted'],
  ];
  it.each(cases)('refuses %s', (_name, make, message) => {
    expect(() => parseAndVerifyCsr(make())).toThrow(message);
  });
});

describe('checkEndpointCsrNames', () => {
  const names = (subject: string, extra: string[] = []) => parseAndVerifyCsr(opensslCsr(tmp.dir, key, subject, extra));
  it.each([
    ['an empty subject with a bound token', '/', [], false, undefined],
    ['CN=<the bound endpoint id>', '/CN=host-1', [], false, undefined],
    ['another CN', '/CN=host-2', [], false, 'subject asks for a name it may not have'],
    ['extra subject attributes', '/O=Acme/CN=host-1', [], false, 'subject asks for a name it may not have'],
    ['subjectAltNames', '/', ['-addext', 'subjectAltName=IP:10.0.0.1'], false, 'asks for subjectAltNames'],
    ['any CN when the CA assigns the id', '/CN=host-1', [], true, 'the CSR subject must be empty'],
    ['an empty subject when the CA assigns the id', '/', [], true, undefined],
  ] as Array<[string, string, string[], boolean, string | undefined]>)('%s', (_name, subject, extra, assigned, message) => {
    const check = () => checkEndpointCsrNames(names(subject, extra), 'host-1', assigned);
    if (message) expect(check).toThrow(message);
    else expect(check).not.toThrow();
  });
});
