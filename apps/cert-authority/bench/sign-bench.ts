// Benchmark: certificates signed per second from CSRs — the CA's path (forge builds, native crypto
// signs) against node-forge-only signing, measured in the same run; a sample is checked by `openssl verify`.
//
// Run: npx nx run cert-authority:bench   (or: cd apps/cert-authority && npx tsx bench/sign-bench.ts)
// BENCH_N sets the number of enrolments (default 2000); BENCH_FORGE_N the baseline's (default 60).
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import forge from 'node-forge';
import { CertificateAuthority } from '../src/certificate-authority';
import { parseAndVerifyCsr } from '../src/csr/csr';
import { identityUri, ORGANIZATION } from '../src/issuance/profiles';
import { buildCertificate, type CertificateSpec, randomSerialHex, signNative, signWithForge } from '../src/issuance/x509';

const N = Number(process.env.BENCH_N ?? 2000);
const FORGE_N = Number(process.env.BENCH_FORGE_N ?? 60);
const DISTINCT_CSRS = 16;

/** Wall-clock and this process's CPU time of fn. */
function measure(fn: () => void): { wallMs: number; cpuMs: number } {
  const cpu = process.cpuUsage();
  const t = performance.now();
  fn();
  const used = process.cpuUsage(cpu);
  return { wallMs: performance.now() - t, cpuMs: (used.user + used.system) / 1000 };
}

const dir = mkdtempSync(join(tmpdir(), 'dc-ca-bench-'));
try {
  // CSRs as endpoints make them: `openssl req` over their own RSA-2048 keys.
  const csrs: string[] = [];
  for (let i = 0; i < DISTINCT_CSRS; i++) {
    const key = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    writeFileSync(join(dir, 'k.pem'), key);
    const r = spawnSync('/usr/bin/openssl', ['req', '-new', '-key', join(dir, 'k.pem'), '-subj', '/'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl req failed: ${r.stderr}`);
    csrs.push(r.stdout);
  }

  const ca = CertificateAuthority.open({ dataDir: join(dir, 'ca') });
  const root = ca.activeRoot();
  const forgeRootKey = forge.pki.privateKeyFromPem(root.signer.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()) as forge.pki.rsa.PrivateKey;

  const specFor = (csrPem: string, i: number): CertificateSpec => {
    const csr = parseAndVerifyCsr(csrPem);
    const now = new Date();
    return {
      serialHex: randomSerialHex(),
      subject: { commonName: `endpoint-${i}`, organization: ORGANIZATION, organizationalUnit: 'endpoint' },
      altNames: { dnsNames: [], ipAddresses: [], uris: [identityUri.endpoint(`endpoint-${i}`)] },
      notBefore: now,
      notAfter: new Date(now.getTime() + 90 * 86_400_000),
      publicKey: csr.publicKey,
      role: { ca: false, purpose: 'client' },
    };
  };

  // 1. Baseline: node-forge builds and signs (pure-JS RSA), from the same CSRs.
  // Warm-up so the JIT has compiled the paths measured below.
  for (let i = 0; i < 50; i++) signNative(buildCertificate(specFor(csrs[i % DISTINCT_CSRS]!, i), root.signer), root.signer.privateKey);
  const forge1 = measure(() => {
    for (let i = 0; i < FORGE_N; i++) signWithForge(buildCertificate(specFor(csrs[i % DISTINCT_CSRS]!, i), root.signer), forgeRootKey);
  });

  // 2. Forge builds, native crypto signs (no store).
  const native = measure(() => {
    for (let i = 0; i < N; i++) signNative(buildCertificate(specFor(csrs[i % DISTINCT_CSRS]!, i), root.signer), root.signer.privateKey);
  });

  // 3. The whole enrolment path: token check, CSR verification, build, native signing, SQLite insert.
  const { token } = ca.createEnrolmentToken({ kind: 'time-limited', maxUses: 0, label: 'bench' });
  const issued: string[] = [];
  const full = measure(() => {
    for (let i = 0; i < N; i++) issued.push(ca.signEndpointCsr({ csrPem: csrs[i % DISTINCT_CSRS]!, enrolmentToken: token }).certificate.certificatePem);
  });

  // The output is real: openssl verify on a sample of the enrolled certificates.
  writeFileSync(join(dir, 'bundle.pem'), ca.trustBundle().pem);
  const sample = Array.from({ length: 25 }, (_, k) => issued[Math.floor((k * issued.length) / 25)]!);
  writeFileSync(join(dir, 'sample.pem'), sample.join(''));
  const files = sample.map((pem, k) => {
    const f = join(dir, `s${k}.pem`);
    writeFileSync(f, pem);
    return f;
  });
  const verify = spawnSync('/usr/bin/openssl', ['verify', '-purpose', 'sslclient', '-CAfile', join(dir, 'bundle.pem'), ...files], { encoding: 'utf8' });
  const ok = verify.stdout.split('\n').filter((l) => l.endsWith(': OK')).length;
  ca.close();

  const rate = (n: number, ms: number) => Math.round(n / (ms / 1000));
  const rows = [
    ['node-forge only (baseline): build + JS RSA sign', FORGE_N, forge1],
    ['forge build + native crypto.sign', N, native],
    ['full SignCsr path (token, CSR verify, sign, ca.db insert)', N, full],
  ] as const;
  console.log(`cert-authority signing benchmark — ${cpus()[0]?.model ?? 'cpu'} ×${cpus().length}, node ${process.version}, one thread`);
  console.log(`  load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}: "cpu" columns are this process's CPU time (what one free core does), "wall" columns include waiting for a shared CPU`);
  for (const [name, n, m] of rows) {
    console.log(
      `  ${name.padEnd(58)} ${String(n).padStart(5)} certs  cpu ${(m.cpuMs / n).toFixed(3).padStart(7)} ms/cert ${String(rate(n, m.cpuMs)).padStart(5)} certs/s` +
        `  wall ${(m.wallMs / n).toFixed(3).padStart(7)} ms/cert ${String(rate(n, m.wallMs)).padStart(5)} certs/s`,
    );
  }
  const perCertForge = forge1.cpuMs / FORGE_N;
  const perCertFull = full.cpuMs / N;
  console.log(`  speed-up of the SignCsr path over node-forge-only signing (cpu): ×${(perCertForge / perCertFull).toFixed(1)}`);
  console.log(
    `  an enrolment storm of 10,000 endpoints on one core: ~${((10_000 * perCertFull) / 1000).toFixed(1)} s cpu ` +
      `(target ≥ 500 certs/s: ${rate(N, full.cpuMs) >= 500 ? 'met' : 'NOT met'}; wall here ${((10_000 * full.wallMs) / N / 1000).toFixed(1)} s)`,
  );
  console.log(`  openssl verify of ${sample.length} sampled certificates: ${ok}/${sample.length} OK`);
  if (ok !== sample.length) {
    console.error(verify.stdout, verify.stderr);
    process.exitCode = 1;
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
