// Encryption at rest for secrets kept in settings.db (zone proxy provision secrets): AES-256-GCM, key file mode 0600.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '@dc/service-kit';

export const SECRET_KEY_FILE = 'secret.key';

export class SecretBox {
  private constructor(private readonly key: Buffer) {}

  /** Loads `<dataDir>/secret.key`, creating it (32 random bytes, mode 0600) on first use. */
  static open(dataDir: string): SecretBox {
    const file = join(dataDir, SECRET_KEY_FILE);
    if (!existsSync(file)) writeFileAtomic(file, randomBytes(32).toString('base64') + '\n');
    const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
    if (key.length !== 32) throw new Error(`${file}: expected a base64 AES-256 key (32 bytes), got ${key.length} bytes`);
    return new SecretBox(key);
  }

  seal(plain: Buffer): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const sealed = Buffer.concat([cipher.update(plain), cipher.final()]);
    return ['v1', iv.toString('base64'), cipher.getAuthTag().toString('base64'), sealed.toString('base64')].join(':');
  }

  open(box: string): Buffer {
    const [version, iv, tag, sealed] = box.split(':');
    if (version !== 'v1' || !iv || !tag || sealed === undefined) throw new Error('sealed secret has an unknown format');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64'));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(sealed, 'base64')), decipher.final()]);
  }
}
