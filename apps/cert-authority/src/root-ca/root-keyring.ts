// The root CAs: created on first start, loaded on restart, rotated; the trust bundle holds them all.
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import forge from 'node-forge';
import type { Clock } from '../clock';
import { ORGANIZATION, validityWindow, type ValidityConfig } from '../issuance/profiles';
import { forgePublicKey, issueCertificate, NO_ALT_NAMES, randomSerialHex, type Signer } from '../issuance/x509';
import { writeFileAtomic } from '@dc/service-kit';
import type { CaStore, RootRecord } from '../store/ca-store';

/** A root ready to sign: its record, private key and the parts of its certificate leaves refer to. */
export interface LoadedRoot {
  readonly record: RootRecord;
  readonly signer: Signer;
  readonly publicKey: KeyObject;
}

export interface RootKeyringOptions {
  readonly store: CaStore;
  /** Directory for root private keys (created 0700; files 0600). */
  readonly keysDir: string;
  readonly clock: Clock;
  readonly validity: ValidityConfig;
}

export class RootKeyring {
  private readonly loaded = new Map<string, LoadedRoot>();

  private constructor(private readonly opts: RootKeyringOptions) {}

  /** Loads the roots from the store, creating the first one when there is none (first start). */
  static open(opts: RootKeyringOptions): RootKeyring {
    const keyring = new RootKeyring(opts);
    for (const record of opts.store.listRoots()) keyring.loaded.set(record.id, keyring.load(record));
    if (keyring.loaded.size === 0) keyring.create(opts.validity.rootDays);
    return keyring;
  }

  /** The root that signs new certificates: the newest one. */
  active(): LoadedRoot {
    const roots = this.all();
    const newest = roots[roots.length - 1];
    if (!newest) throw new Error('no root CA');
    return newest;
  }

  get(id: string): LoadedRoot | undefined {
    return this.loaded.get(id);
  }

  /** All roots, oldest first, retired ones included. */
  all(): LoadedRoot[] {
    return [...this.loaded.values()].sort((a, b) => a.record.sequence - b.record.sequence);
  }

  /**
   * Trusted roots, the issuing (active) root first: every root whose retirement time has not
   * come. During a rotation the bundle holds the old and the new root, so certificates from
   * both verify and no endpoint is stranded.
   */
  trustBundle(): { roots: RootRecord[]; pem: string; version: number } {
    const roots = this.trusted()
      .map((r) => r.record)
      .reverse();
    return { roots, pem: roots.map((r) => r.certificatePem).join(''), version: this.active().record.sequence };
  }

  /** Roots still trusted now, oldest first. */
  trusted(): LoadedRoot[] {
    const now = this.opts.clock().getTime();
    return this.all().filter((r) => !r.record.retireAt || r.record.retireAt.getTime() > now);
  }

  /**
   * Creates a new root that signs from now on. Roots without a retirement time get one,
   * `overlapMs` from now: until then they stay in the trust bundle while what they signed is renewed.
   */
  rotate(opts: { overlapMs: number; validityDays?: number }): LoadedRoot {
    const retireAt = new Date(this.opts.clock().getTime() + opts.overlapMs);
    const created = this.create(opts.validityDays ?? this.opts.validity.rootDays);
    for (const root of this.all()) {
      if (root.record.id === created.record.id || root.record.retireAt) continue;
      this.opts.store.scheduleRetirement(root.record.id, retireAt);
      this.loaded.set(root.record.id, { ...root, record: { ...root.record, retireAt } });
    }
    return created;
  }

  private create(validityDays: number): LoadedRoot {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const now = this.opts.clock();
    const { notBefore, notAfter } = validityWindow(now, validityDays, this.opts.validity.backdateSeconds);
    const number = this.opts.store.listRoots().length + 1;
    const serial = randomSerialHex();
    const built = issueCertificate(
      {
        serialHex: serial,
        subject: { commonName: `Direct Connect Root CA ${number}`, organization: ORGANIZATION },
        altNames: NO_ALT_NAMES,
        notBefore,
        notAfter,
        publicKey: forgePublicKey(publicKey),
        role: { ca: true },
      },
      'self',
      privateKey,
    );
    const id = forge.util.bytesToHex(built.subjectKeyId);
    const keyFile = `root-${id}.key.pem`;
    // Key first: a crash between the two leaves an unused key file, never a root without its key.
    writeFileAtomic(join(this.opts.keysDir, keyFile), privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    const record = this.opts.store.insertRoot({ id, serial, certificatePem: built.pem, keyFile, notBefore, notAfter, createdAt: now });
    const loaded = this.load(record);
    this.loaded.set(id, loaded);
    return loaded;
  }

  private load(record: RootRecord): LoadedRoot {
    const keyPath = join(this.opts.keysDir, record.keyFile);
    if (!existsSync(keyPath)) {
      throw new Error(`root "${record.id}": private key file ${keyPath} is missing; restore it from backup (ca.db and keys/ belong together)`);
    }
    const privateKey = createPrivateKey(readFileSync(keyPath, 'utf8'));
    const cert = forge.pki.certificateFromPem(record.certificatePem);
    return {
      record,
      publicKey: createPublicKey(privateKey),
      signer: { subjectAttributes: cert.subject.attributes, subjectKeyId: forge.util.hexToBytes(record.id), privateKey },
    };
  }
}
