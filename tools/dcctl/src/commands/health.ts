// dcctl health: a gRPC health probe (grpc.health.v1 Check) for container health checks and scripts; exits 0 only on SERVING.
import { readFileSync } from 'node:fs';
import { Client, credentials, Metadata, type MethodDefinition, type ServiceError } from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { CliError, EXIT, fromGrpcError, usageError } from '../client/cli-error';
import { type Register } from '../context';

const check = (healthService as unknown as Record<string, MethodDefinition<{ service: string }, { status: string }>>).Check!;

export const registerHealth: Register = (program, act) => {
  program
    .command('health <address>')
    .description('Check a gRPC server\'s health (grpc.health.v1.Health/Check) at host:port: exits 0 if SERVING, 1 if not serving, 3 if unreachable. Needs no token; used by the Docker health checks.')
    .option('--service <name>', 'the service to check (default: the server as a whole)', '')
    .option('--tls', 'the server speaks TLS: its certificate is checked against --ca-file when given, else not checked (a liveness probe of a local server, not an identity check)')
    .action(
      act<{ service: string; tls?: boolean }>(async (ctx, o, [address]) => {
        if (!/^[^\s:]+:\d{1,5}$/.test(address!) && !/^\[[0-9a-fA-F:.]+\]:\d{1,5}$/.test(address!)) {
          throw usageError(`<address> "${address}": must be host:port, e.g. 127.0.0.1:17481`);
        }
        const caFile = ctx.caFile();
        const creds = caFile
          ? credentials.createSsl(readFileSync(caFile))
          : o.tls
            ? credentials.createSsl(null, null, null, { rejectUnauthorized: false })
            : credentials.createInsecure();
        const serverName = ctx.globals.tlsServerName;
        const client = new Client(address!, creds, serverName ? { 'grpc.ssl_target_name_override': serverName, 'grpc.default_authority': serverName } : {});
        try {
          const res = await new Promise<{ status: string }>((resolve, reject) =>
            client.makeUnaryRequest(
              check.path,
              check.requestSerialize,
              check.responseDeserialize,
              { service: o.service },
              new Metadata(),
              { deadline: Date.now() + ctx.timeoutMs() },
              (err: ServiceError | null, value?: { status: string }) => (err ? reject(err) : resolve(value!)),
            ),
          );
          const serving = res.status === 'SERVING';
          if (!serving) ctx.exitCode = EXIT.FAILED;
          ctx.out.result({ address, service: o.service, status: res.status }, () => ctx.out.line(`${address}${o.service ? ` ${o.service}` : ''}: ${res.status}`));
        } catch (err) {
          const e = fromGrpcError(err, { serviceLabel: 'gRPC server', address: address!, method: 'grpc.health.v1.Health/Check' });
          const hint =
            e.grpcCode === 'NOT_FOUND'
              ? `the server does not know the service "${o.service}"`
              : e.exitCode === EXIT.UNAVAILABLE
                ? `check that the server runs and listens on ${address}${o.tls || caFile ? '' : '; if it speaks TLS, add --tls (or --ca-file <trust bundle>)'}`
                : undefined;
          throw new CliError(e.message, e.exitCode === EXIT.AUTH ? EXIT.FAILED : e.exitCode, hint, e.grpcCode);
        } finally {
          client.close();
        }
      }),
    );
};
