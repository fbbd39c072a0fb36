// Interpretation of assembled events into process-start, file, network, security and other events.
import { describe, expect, it } from 'vitest';
import { interpretEvent } from './interpret';
import { isParseError, parseRecord } from '../records/parse-record';
import type { AuditEvent, AuditRecord } from '../types';

/** Interprets records given as "TYPE fields…" lines sharing one timestamp and serial. */
function event(...lines: string[]): AuditEvent {
  const records: AuditRecord[] = lines.map((l) => {
    const sp = l.indexOf(' ');
    const type = sp < 0 ? l : l.slice(0, sp);
    const rest = sp < 0 ? '' : l.slice(sp + 1);
    const r = parseRecord(`type=${type} msg=audit(1700000000.123:42): ${rest}`);
    if (isParseError(r)) throw new Error(r.reason);
    return r;
  });
  return interpretEvent(records);
}

const SYSCALL = (syscall: number, extra = ''): string =>
  `SYSCALL arch=c000003e syscall=${syscall} success=yes exit=3 a0=ffffff9c a1=55d0 a2=241 a3=1b6 items=2 ppid=100 pid=200 auid=1000 uid=1000 gid=1000 euid=0 suid=0 fsuid=0 egid=1000 sgid=1000 fsgid=1000 tty=pts0 ses=5 comm="vi" exe="/usr/bin/vim" key="watch" ${extra}`;

describe('interpretEvent', () => {
  it('carries node, time, serial, record types and the process context on every event', () => {
    const e = event(SYSCALL(39), 'PROCTITLE proctitle=7669', 'EOE');
    expect(e).toMatchObject({
      kind: 'other', timestamp: 1700000000123, serial: 42, recordTypes: ['SYSCALL', 'PROCTITLE', 'EOE'],
      process: {
        pid: 200, ppid: 100, uid: 1000, euid: 0, auid: 1000, ses: 5, exe: '/usr/bin/vim', comm: 'vi', tty: 'pts0',
        success: true, exit: 3, syscall: 'getpid', arch: 'x86_64', key: 'watch',
      },
    });
  });

  it('reads quoted success, tty and arch values as the bare words (laurel writes them quoted)', () => {
    const e = event('SYSCALL arch="c000003e" syscall=59 success="yes" exit=0 items=1 ppid=1 pid=2 uid=0 tty="(none)" comm="rm" exe="/usr/bin/rm"', 'EOE');
    expect(e.process).toMatchObject({ success: true, tty: '(none)', arch: 'x86_64', syscall: 'execve' });
    const failed = event('SYSCALL arch=c000003e syscall=59 success="no" exit=-2 items=1 ppid=1 pid=2 uid=0 comm="rm" exe="/usr/bin/rm"', 'EOE');
    expect(failed.process?.success).toBe(false);
  });

  it('turns execve into a process start with joined argv, cwd and proctitle', () => {
    const e = event(
      'SYSCALL arch=c000003e syscall=59 success=yes exit=0 ppid=1 pid=2 auid=0 uid=0 euid=0 ses=1 tty=(none) comm="sh" exe="/bin/sh"',
      'EXECVE argc=3 a0="sh" a1="-c" a2=6563686F2068692074686572650A',
      'CWD cwd=2F746D702F6120646972',
      'PATH item=0 name="/bin/sh" inode=1 nametype=NORMAL',
      'PROCTITLE proctitle=7368002D6300',
    );
    expect(e).toMatchObject({
      kind: 'process-start', exe: '/bin/sh', argv: ['sh', '-c', 'echo hi there\n'], argc: 3, cwd: '/tmp/a dir', proctitle: 'sh -c',
    });
  });

  it('joins arguments split across EXECVE records as aN_len / aN[i]', () => {
    const e = event(
      'SYSCALL arch=c000003e syscall=59 success=yes exit=0 pid=2',
      'EXECVE argc=2 a0="echo" a1_len=12 a1[0]=616263',
      'EXECVE a1[1]=646566',
    );
    expect(e).toMatchObject({ kind: 'process-start', argv: ['echo', 'abcdef'], argc: 2 });
  });

  it('names aarch64 system calls from the generated table', () => {
    const e = event('SYSCALL arch=c00000b7 syscall=221 success=yes exit=0 pid=2', 'EXECVE argc=1 a0="ls"');
    expect(e).toMatchObject({ kind: 'process-start', process: { arch: 'aarch64', syscall: 'execve' } });
  });

  it('reports a file create from openat with a CREATE item, resolved against the CWD', () => {
    const e = event(
      SYSCALL(257),
      'CWD cwd="/home/u"',
      'PATH item=0 name="notes/" inode=10 mode=040755 nametype=PARENT',
      'PATH item=1 name="notes/new.txt" inode=11 mode=0100644 nametype=CREATE',
    );
    expect(e).toMatchObject({ kind: 'file', operation: 'create', path: '/home/u/notes/new.txt', inode: 11, mode: '0100644', cwd: '/home/u' });
  });

  it('reports open-for-write from the flags, and nothing for a read-only open', () => {
    const write = event(SYSCALL(257).replace('a2=241', 'a2=1'), 'CWD cwd="/"', 'PATH item=0 name="/etc/passwd" inode=5 nametype=NORMAL');
    expect(write).toMatchObject({ kind: 'file', operation: 'write', path: '/etc/passwd' });
    const read = event(SYSCALL(257).replace('a2=241', 'a2=0'), 'CWD cwd="/"', 'PATH item=0 name="/etc/passwd" inode=5 nametype=NORMAL');
    expect(read.kind).toBe('other');
  });

  it('reports delete, rename (old and new path), chmod and chown', () => {
    expect(
      event(SYSCALL(263), 'CWD cwd="/tmp"', 'PATH item=0 name="/tmp" nametype=PARENT', 'PATH item=1 name="x" inode=3 nametype=DELETE'),
    ).toMatchObject({ kind: 'file', operation: 'delete', path: '/tmp/x' });
    expect(
      event(
        SYSCALL(82), 'CWD cwd="/srv"',
        'PATH item=0 name="a/" nametype=PARENT', 'PATH item=1 name="b/" nametype=PARENT',
        'PATH item=2 name="a/old" inode=7 nametype=DELETE', 'PATH item=3 name="b/new" inode=7 nametype=CREATE',
      ),
    ).toMatchObject({ kind: 'file', operation: 'rename', oldPath: '/srv/a/old', path: '/srv/b/new' });
    expect(event(SYSCALL(90), 'PATH item=0 name="/etc/shadow" nametype=NORMAL')).toMatchObject({ kind: 'file', operation: 'chmod', path: '/etc/shadow' });
    expect(event(SYSCALL(92), 'PATH item=0 name="/etc/shadow" nametype=NORMAL')).toMatchObject({ kind: 'file', operation: 'chown' });
  });

  it('reports connect with the remote address and bind with the local one', () => {
    expect(event(SYSCALL(42), 'SOCKADDR saddr=0200005DC0A801020000000000000000')).toMatchObject({
      kind: 'network', operation: 'connect', family: 'inet', remote: { address: '192.168.1.2', port: 93 }, local: undefined,
    });
    expect(event(SYSCALL(49), 'SOCKADDR saddr=0A001F90000000000000000000000000000000000000000100000000')).toMatchObject({
      kind: 'network', operation: 'bind', family: 'inet6', local: { address: '::1', port: 8080 }, remote: undefined,
    });
    expect(event(SYSCALL(43), 'SOCKADDR saddr=01002F746D702F7300')).toMatchObject({
      kind: 'network', operation: 'accept', family: 'unix', remote: { path: '/tmp/s' },
    });
  });

  it('reports a failed login with account, terminal and remote address', () => {
    const e = event(
      "USER_LOGIN pid=9 uid=0 auid=4294967295 ses=4294967295 msg='op=login acct=\"alice\" exe=\"/usr/sbin/sshd\" hostname=? addr=203.0.113.9 terminal=ssh res=failed'",
    );
    expect(e).toMatchObject({
      kind: 'security', action: 'login', account: 'alice', result: 'failure', terminal: 'ssh', remoteAddress: '203.0.113.9',
      hostname: undefined, operation: 'login', process: { pid: 9, uid: 0, exe: '/usr/sbin/sshd' },
    });
  });

  it.each([
    ["USER_AUTH pid=1 uid=0 msg='op=PAM:authentication acct=\"bob\" exe=\"/bin/su\" hostname=? addr=? terminal=pts/1 res=success'", 'authentication', 'bob', 'success'],
    ["USER_CMD pid=1 uid=1000 msg='cwd=\"/\" cmd=6C73202D6C terminal=pts/0 res=success'", 'command', undefined, 'success'],
    ["ADD_USER pid=1 uid=0 msg='op=adding user id=1001 exe=\"/usr/sbin/useradd\" hostname=h addr=? terminal=pts/0 res=success'\x1dID=\"carol\"", 'account-change', 'carol', 'success'],
    ["CRED_ACQ pid=1 uid=0 msg='op=PAM:setcred acct=\"root\" exe=\"/usr/sbin/cron\" hostname=? addr=? terminal=cron res=success'", 'credential-acquire', 'root', 'success'],
    ['LOGIN pid=72605 uid=0 old-auid=4294967295 auid=0 tty=(none) old-ses=4294967295 ses=325 res=1\x1dAUID="root"', 'login', 'root', 'success'],
  ])('reports security record %#', (line, action, account, result) => {
    expect(event(line)).toMatchObject({ kind: 'security', action, account, result });
  });

  it('decodes the command of USER_CMD', () => {
    expect(event("USER_CMD pid=1 uid=1000 msg='cwd=\"/\" cmd=6C73202D6C terminal=pts/0 res=success'")).toMatchObject({ command: 'ls -l' });
  });

  it('reports a successful setuid as a privilege change', () => {
    expect(event(SYSCALL(105), 'EOE')).toMatchObject({ kind: 'security', action: 'privilege-change', operation: 'setuid', result: 'success' });
    expect(event(SYSCALL(105).replace('success=yes', 'success=no'), 'EOE').kind).toBe('other');
  });

  it('keeps unknown syscall numbers visible', () => {
    expect(event('SYSCALL arch=c000003e syscall=9999 success=yes exit=0').process.syscall).toBe('unknown-syscall(9999)');
  });
});

describe('interpretEvent without a CWD record', () => {
  it('places a bare file name in the directory of an absolute PARENT item', () => {
    const e = interpretEvent(
      [
        'type=SYSCALL msg=audit(1.000:1): arch=c000003e syscall=87 success=yes exit=0 pid=2',
        'type=PATH msg=audit(1.000:1): item=0 name="/var/tmp/" nametype=PARENT',
        'type=PATH msg=audit(1.000:1): item=1 name="gone.txt" nametype=DELETE',
      ].map((l) => parseRecord(l) as AuditRecord),
    );
    expect(e).toMatchObject({ kind: 'file', operation: 'delete', path: '/var/tmp/gone.txt', cwd: undefined });
  });
});
