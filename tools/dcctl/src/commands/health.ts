// dcctl health: a gRPC health probe (grpc.health.v1 Check) for container health checks and scripts; exits 0 only on SERVING.
import { readFileSync } from 'node:fs';
import { type ChannelCredentials, Client, credentials, Metadata, type MethodDefinition, type ServiceError } from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { CliError, EXIT, fromGrpcError, usageError } from '../client/cli-error';
import { type Register } from '../context';

const check = (healthService as unknown as Record<string, MethodDefinition<{ service: string }, { status: string }>>).Check!;

async function probe(address: string, creds: ChannelCredentials, serverName: string | undefined, service: string, timeoutMs: number): Promise<string> {
  const client = new Client(address, creds, serverName ? { 'grpc.ssl_target_name_override': serverName, 'grpc.default_authority': serverName } : {});
  try {
    const res = await new Promise<{ status: string }>((resolve, reject) =>
      client.makeUnaryRequest(
        check.path,
        check.requestSerialize,
        check.responseDeserialize,
        { service },
        new Metadata(),
        { deadline: Date.now() + timeoutMs },
        (err: ServiceError | null, value?: { status: string }) => (err ? reject(err) : resolve(value!)),
      ),
    );
    return res.status;
  } finally {
    client.close();
  }
}

export const registerHealth: Register = (program, act) => {
  program
    .command('health <address>')
    .summary('gRPC health probe of one server (exit 0 only on SERVING).')
    .description(
      'Check a gRPC server\'s health (grpc.health.v1.Health/Check) at host:port: exits 0 if SERVING, 1 if not serving, 3 if unreachable. Needs no token; used by the Docker health checks. Without --tls/--plaintext/--ca-file it tries TLS and plaintext at once and takes whichever answers.',
    )
    .option('--service <name>', 'the service to check (default: the server as a whole)', '')
    .option('--tls', 'TLS only: the certificate is checked against --ca-file when given, else not checked (a liveness probe, not an identity check)')
    .option('--plaintext', 'plaintext only')
    .action(
      act<{ service: string; tls?: boolean; plaintext?: boolean }>(async (ctx, o, [address]) => {
        if (!/^[^\s:]+:\d{1,5}$/.test(address!) && !/^\[[0-9a-fA-F:.]+\]:\d{1,5}$/.test(address!)) {
          throw usageError(`<address> "${address}": must be host:port, e.g. 127.0.0.1:17481`);
        }
        if (o.tls && o.plaintext) throw usageError('give --tls or --plaintext, not both');
        const caFile = ctx.caFile();
        const tlsCreds = caFile ? credentials.createSsl(readFileSync(caFile)) : credentials.createSsl(null, null, null, { rejectUnauthorized: false });
        const modes: Array<[string, ChannelCredentials]> = o.plaintext ? [['plaintext', credentials.createInsecure()]] : o.tls || caFile ? [['tls', tlsCreds]] : [['tls', tlsCreds], ['plaintext', credentials.createInsecure()]];
        const attempts = modes.map(([mode, creds]) =>
          probe(address!, creds, ctx.globals.tlsServerName, o.service, ctx.timeoutMs()).then(
            (status) => ({ mode, status }),
            (err: unknown) => Promise.reject({ mode, err }),
          ),
        );
        let result: { mode: string; status: string };
        try {
          result = await Promise.any(attempts);
        } catch (agg) {
          const failures = (agg as AggregateError).errors as Array<{ mode: string; err: unknown }>;
          // Prefer an answer from the server (e.g. NOT_FOUND for an unknown service) over a transport failure.
          const answered = failures.find((f) => (f.err as ServiceError).code !== undefined && (f.err as ServiceError).code !== 14 && (f.err as ServiceError).code !== 4) ?? failures[0]!;
          const e = fromGrpcError(answered.err, { serviceLabel: 'gRPC server', address: address!, method: 'grpc.health.v1.Health/Check' });
          const hint =
            e.grpcCode === 'NOT_FOUND'
              ? `the server does not know the service "${o.service}"`
              : e.exitCode === EXIT.UNAVAILABLE
                ? `check that the server runs and listens on ${address} (tried ${modes.map(([m]) => m).join(' and ')})`
                : undefined;
          throw new CliError(e.message, e.exitCode === EXIT.AUTH ? EXIT.FAILED : e.exitCode, hint, e.grpcCode);
        }
        if (result.status !== 'SERVING') ctx.exitCode = EXIT.FAILED;
        ctx.out.result({ address, service: o.service, status: result.status, transport: result.mode }, () =>
          ctx.out.line(`${address}${o.service ? ` ${o.service}` : ''}: ${result.status} (${result.mode})`),
        );
      }),
    );
};
