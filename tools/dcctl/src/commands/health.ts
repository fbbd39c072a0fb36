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
    .action(
      act<{ service: string }>(async (ctx, o, [address]) => {
        if (!/^[^\s:]+:\d{1,5}$/.test(address!) && !/^\[[0-9a-fA-F:.]+\]:\d{1,5}$/.test(address!)) {
          throw usageError(`<address> "${address}": must be host:port, e.g. 127.0.0.1:17481`);
        }
        const caFile = ctx.caFile();
        const creds = caFile ? credentials.createSsl(readFileSync(caFile)) : credentials.createInsecure();
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
          throw new CliError(e.message, e.exitCode === EXIT.AUTH ? EXIT.FAILED : e.exitCode, e.grpcCode === 'NOT_FOUND' ? `the server does not know the service "${o.service}"` : undefined, e.grpcCode);
        } finally {
          client.close();
        }
      }),
    );
};
