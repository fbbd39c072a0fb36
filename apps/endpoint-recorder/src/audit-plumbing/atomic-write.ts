// Writes a system file (audit configuration) atomically, keeping the mode of the file it replaces.
import { statSync } from 'node:fs';
import { writeFileAtomic as writeAtomically } from '@dc/service-kit';

/** Readers see the old or the new content, never half of it; a new file gets 0640. */
export function writeFileAtomic(path: string, content: string, mode?: number): void {
  let fileMode = mode;
  if (fileMode === undefined) {
    try {
      fileMode = statSync(path).mode & 0o7777; // keep the mode of the file we replace
    } catch {
      fileMode = 0o640;
    }
  }
  writeAtomically(path, content, { mode: fileMode, dirMode: 0o755 });
}
