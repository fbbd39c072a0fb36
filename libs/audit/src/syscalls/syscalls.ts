// Audit `arch` codes (AUDIT_ARCH_*, linux/audit.h) → arch name and system call table.
import {
  SYSCALLS_AARCH64,
  SYSCALLS_ARM,
  SYSCALLS_I386,
  SYSCALLS_PPC64,
  SYSCALLS_S390X,
  SYSCALLS_X86_64,
} from './syscall-tables.gen';

interface ArchInfo {
  readonly name: string;
  readonly table: readonly string[];
  /** AUDIT_ARCH_* without __AUDIT_ARCH_LE (0x40000000): the kernel wrote structs big-endian. */
  readonly bigEndian: boolean;
}

// AUDIT_ARCH_* values from linux/audit.h (EM_* | __AUDIT_ARCH_64BIT 0x80000000 | __AUDIT_ARCH_LE 0x40000000).
const ARCHES: Record<string, ArchInfo> = {
  c000003e: { name: 'x86_64', table: SYSCALLS_X86_64, bigEndian: false },
  c00000b7: { name: 'aarch64', table: SYSCALLS_AARCH64, bigEndian: false },
  '40000003': { name: 'i386', table: SYSCALLS_I386, bigEndian: false },
  '80000015': { name: 'ppc64', table: SYSCALLS_PPC64, bigEndian: true },
  c0000015: { name: 'ppc64le', table: SYSCALLS_PPC64, bigEndian: false },
  '80000016': { name: 's390x', table: SYSCALLS_S390X, bigEndian: true },
  '40000028': { name: 'arm', table: SYSCALLS_ARM, bigEndian: false },
};

const BY_NAME: Record<string, ArchInfo> = {};
for (const info of Object.values(ARCHES)) BY_NAME[info.name] = info;

/** Arch info for a raw `arch=` value (hex code, or an already interpreted name such as `x86_64`). */
export function archInfo(arch: string | undefined): ArchInfo | undefined {
  if (arch === undefined) return undefined;
  return ARCHES[arch.toLowerCase()] ?? BY_NAME[arch];
}

/**
 * System call name for a raw `syscall=` number and `arch=` code, as ausearch prints it.
 * Unknown numbers give `unknown-syscall(N)`; a value that is already a name is returned as is.
 */
export function syscallName(arch: string | undefined, syscall: string): string {
  const n = Number(syscall);
  if (!Number.isInteger(n)) return syscall;
  const table = archInfo(arch)?.table;
  const name = table !== undefined && n >= 0 && n < table.length ? table[n] : '';
  return name !== '' ? name : `unknown-syscall(${syscall})`;
}
