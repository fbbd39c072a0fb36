// dcctl certificates list / renew-server / renew-client: server and client certificates with their expiry (SPEC 1.4.5).
import { caV1, moduleServerV1 } from '@dc/proto';
import { type Ctx, type Register } from '../context';
import { enumLabel, expiry, time } from '../output/output';
import { parseDuration, parseEnum } from '../parse';
import { CliError, usageError } from '../client/cli-error';

interface IssuedOpts {
  purpose?: string;
  clientId?: string;
  includeRevoked?: boolean;
}

/** The certificates the CA issued, with expiry (CA ListCertificates). */
async function listIssued(ctx: Ctx, opts: IssuedOpts): Promise<void> {
  const now = ctx.now();
  const purpose = opts.purpose ? parseEnum(caV1.CertificatePurpose, 'CERTIFICATE_PURPOSE_', '--purpose', opts.purpose) : undefined;
  const req = caV1.ListCertificatesRequest.fromPartial({ pageSize: 1000, purpose, clientId: opts.clientId ?? '', includeRevoked: Boolean(opts.includeRevoked), includeExpired: true });
  const res = await ctx.conn().unary(caV1.CertificateAuthorityServiceService.listCertificates, 'SETTINGS_READ', req);
  ctx.out.result(caV1.ListCertificatesResponse.toJSON(res), () =>
    ctx.out.table(
      ['SERIAL', 'PURPOSE', 'SUBJECT', 'CLIENT ID', 'EXPIRES', 'REVOKED'],
      res.certificates.map((c) => [
        c.serial,
        enumLabel(caV1.CertificatePurpose, 'CERTIFICATE_PURPOSE_', c.purpose),
        c.subject,
        c.clientId || '-',
        expiry(c.notAfter, now),
        c.revoked ? `yes (${time(c.revokeTime)})` : 'no',
      ]),
    ),
  );
}

export const registerCertificates: Register = (program, act) => {
  const certificates = program.command('certificates').description('Server and client certificates: expiry and renewal (SPEC 1.4.5).');

  certificates
    .command('list')
    .description('The server certificate, the module server\'s link client certificate and the CA roots, with expiry; --issued lists every certificate the CA issued.')
    .option('--issued', 'list the certificates the CA issued instead (endpoint client certificates included)')
    .option('--purpose <purpose>', 'with --issued: only this purpose (server, client, endpoint, zone-proxy-endpoint-facing, zone-proxy-link-facing, service)')
    .option('--client-id <id>', 'with --issued: only this endpoint\'s certificates')
    .option('--include-revoked', 'with --issued: include revoked certificates')
    .action(
      act<{ issued?: boolean; purpose?: string; clientId?: string; includeRevoked?: boolean }>(async (ctx, opts) => {
        const now = ctx.now();
        if (opts.issued) {
          await listIssued(ctx, opts);
          return;
        }
        let res: moduleServerV1.GetCertificatesResponse;
        try {
          res = await ctx.conn().unary(moduleServerV1.AdminServiceService.getCertificates, 'SETTINGS_READ', moduleServerV1.GetCertificatesRequest.fromPartial({}));
        } catch (err) {
          if (!(err instanceof CliError) || err.grpcCode !== 'UNIMPLEMENTED') throw err;
          ctx.out.note(`note: ${err.message}; listing the certificates the CA issued instead (dcctl certificates list --issued)`);
          await listIssued(ctx, opts);
          return;
        }
        ctx.out.result(moduleServerV1.GetCertificatesResponse.toJSON(res), () => {
          const row = (kind: string, c: moduleServerV1.CertificateSummary | undefined) =>
            c ? [kind, c.subject, [...c.dnsNames, ...c.ipAddresses].join(',') || '-', c.serial, expiry(c.notAfter, now)] : [kind, '(none installed)', '-', '-', '-'];
          ctx.out.table(
            ['CERTIFICATE', 'SUBJECT', 'NAMES', 'SERIAL', 'EXPIRES'],
            [row('server', res.serverCertificate), row('link client', res.linkClientCertificate), ...res.roots.map((r) => row('CA root', r))],
          );
          ctx.out.line();
          ctx.out.line(
            res.endpointCertificatesExpiring > 0
              ? `${res.endpointCertificatesExpiring} endpoint client certificate(s) expire within 30 days: dcctl certificates renew-client --expiring-within 30d`
              : 'no endpoint client certificate expires within 30 days',
          );
        });
      }),
    );

  certificates
    .command('renew-server')
    .description('Renew the module server\'s server certificate; new TLS handshakes use it at once.')
    .option('--validity <duration>', 'validity of the new certificate, e.g. 397d (default: the CA\'s, 397 days)')
    .action(
      act<{ validity?: string }>(async (ctx, opts) => {
        const validity = opts.validity ? parseDuration('--validity', opts.validity) : undefined;
        const res = await ctx.conn().unary(moduleServerV1.AdminServiceService.renewServerCertificate, 'SETTINGS_WRITE', moduleServerV1.RenewServerCertificateRequest.fromPartial({ validity }));
        ctx.out.result(moduleServerV1.RenewServerCertificateResponse.toJSON(res), () => {
          const c = res.serverCertificate;
          ctx.out.line(`server certificate renewed: serial ${c?.serial ?? '?'}, expires ${expiry(c?.notAfter, ctx.now())}`);
        });
      }),
    );

  certificates
    .command('renew-client')
    .description('Renew endpoint client certificates: sends a Renew Certificate action to each endpoint named, or to every endpoint expiring within --expiring-within.')
    .option('--client-id <id...>', 'endpoints to renew (client ids)')
    .option('--expiring-within <duration>', 'every endpoint whose certificate expires within this, e.g. 30d')
    .action(
      act<{ clientId?: string[]; expiringWithin?: string }>(async (ctx, opts) => {
        if (!opts.clientId?.length && !opts.expiringWithin) {
          throw usageError('name the endpoints with --client-id <id...> or choose them with --expiring-within <duration>', 'dcctl certificates renew-client --expiring-within 30d');
        }
        const res = await ctx.conn().unary(
          moduleServerV1.EndpointServiceService.renewEndpointCertificates,
          'SETTINGS_WRITE',
          moduleServerV1.RenewEndpointCertificatesRequest.fromPartial({
            clientIds: opts.clientId ?? [],
            allExpiringWithin: opts.expiringWithin ? parseDuration('--expiring-within', opts.expiringWithin) : undefined,
          }),
        );
        ctx.out.result(moduleServerV1.RenewEndpointCertificatesResponse.toJSON(res), () => {
          const entries = Object.entries(res.actionIds);
          ctx.out.table(['CLIENT ID', 'RENEW ACTION'], entries.map(([k, v]) => [k, v]), 'no endpoint matched: nothing to renew');
          if (entries.length > 0) ctx.out.line(`${entries.length} Renew Certificate action(s) sent; follow with: dcctl events follow --kind certificate-renewed`);
        });
      }),
    );
};
