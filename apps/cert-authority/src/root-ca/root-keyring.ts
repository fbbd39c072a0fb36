// The root CAs: created on first start, loaded on restart, rotated; the trust bundle holds them all.
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FailedPrecondition, NotFound } from '@dc/service-kit';
import forge from 'node-forge';
import type { Clock } from '../clock';
import { ORGANIZATION, validityWindow, type ValidityConfig } from '../issuance/profiles';
import { forgePublicKey, issueCertificate, NO_ALT_NAMES, randomSerialHex, type Signer } from '../issuance/x509';
import { writeSecretFileAtomic } from '../store/key-files';
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
    if (keyring.unretired().length === 0) keyring.create();
    return keyring;
  }

  /** The root that signs new certificates: the newest one not retired. */
  active(): LoadedRoot {
    const roots = this.unretired();
    const newest = roots[roots.length - 1];
    if (!newest) throw new Error('no active root: every root is retired');
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
   * Trusted roots: every unretired root. During a rotation the bundle holds the old and the new
   * root, so certificates from both verify and no endpoint is stranded.
   */
  trustBundle(): { roots: RootRecord[]; pem: string } {
    const roots = this.unretired().map((r) => r.record);
    return { roots, pem: roots.map((r) => r.certificatePem).join('') };
  }

  /** Creates a new root that becomes the issuing root; older roots stay trusted until retired. */
  rotate(): LoadedRoot {
    return this.create();
  }

  /** Removes a root from the trust bundle. The issuing root cannot be retired: rotate first. */
  retire(id: string): RootRecord {
    const root = this.loaded.get(id);
    if (!root) throw new NotFound(`root "${id}" is not known to this CA`);
    if (root.record.retiredAt) throw new FailedPrecondition(`root "${id}" was retired already at ${root.record.retiredAt.toISOString()}`);
    if (this.active().record.id === id) {
      throw new FailedPrecondition(`root "${id}" is the issuing root; rotate the root first, then retire this one`);
    }
    const at = this.opts.clock();
    this.opts.store.retireRoot(id, at);
    const record = { ...root.record, retiredAt: at };
    this.loaded.set(id, { ...root, record });
    return record;
  }

  private unretired(): LoadedRoot[] {
    return this.all().filter((r) => !r.record.retiredAt);
  }

  private create(): LoadedRoot {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const now = this.opts.clock();
    const { notBefore, notAfter } = validityWindow(now, this.opts.validity.rootDays, this.opts.validity.backdateSeconds);
    const number = this.opts.store.listRoots().length + 1;
    const built = issueCertificate(
      {
        serialHex: randomSerialHex(),
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
    writeSecretFileAtomic(join(this.opts.keysDir, keyFile), privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    const record = this.opts.store.insertRoot({ id, certificatePem: built.pem, keyFile, notBefore, notAfter, createdAt: now });
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
