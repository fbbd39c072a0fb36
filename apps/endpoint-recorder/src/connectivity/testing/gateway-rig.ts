// A scripted broker for agent tests: a real gRPC server on 127.0.0.1:0 with TLS from a test CA,
// that enrols with a token, answers hellos and heartbeats, sends the actions a test gives it and
// records the action statuses it gets back. (The real broker is apps/module-server; apps do
// not import each other.)
import { generateKeyPairSync } from 'node:crypto';
import { Server, ServerCredentials, type ServerDuplexStream, status } from '@grpc/grpc-js';
import { gatewayV1 as gateway } from '@dc/proto';
import { waitFor } from '@dc/service-kit/testing';
import forge from 'node-forge';

export const RIG_ENROLMENT_TOKEN = 'rig-enrolment-token';

function rsaKeyPem(): string {
  return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** A root CA that issues the rig's server certificate and signs the agent's CSR. */
export class RigCa {
  readonly keyPem = rsaKeyPem();
  readonly rootPem: string;
  private serial = 1;

  constructor() {
    const key = forge.pki.privateKeyFromPem(this.keyPem);
    const cert = forge.pki.createCertificate();
    cert.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
    cert.serialNumber = '01';
    cert.validity.notBefore = new Date(Date.now() - 60_000);
    cert.validity.notAfter = new Date(Date.now() + 86_400_000);
    const subject = [{ name: 'commonName', value: 'rig root' }];
    cert.setSubject(subject);
    cert.setIssuer(subject);
    cert.setExtensions([{ name: 'basicConstraints', cA: true }, { name: 'keyUsage', keyCertSign: true, cRLSign: true }]);
    cert.sign(key, forge.md.sha256.create());
    this.rootPem = forge.pki.certificateToPem(cert);
  }

  private issue(publicKey: forge.pki.PublicKey, commonName: string, extensions: object[]): string {
    const cert = forge.pki.createCertificate();
    cert.publicKey = publicKey;
    cert.serialNumber = (++this.serial).toString(16).padStart(2, '0');
    cert.validity.notBefore = new Date(Date.now() - 60_000);
    cert.validity.notAfter = new Date(Date.now() + 86_400_000);
    cert.setSubject([{ name: 'commonName', value: commonName }]);
    cert.setIssuer(forge.pki.certificateFromPem(this.rootPem).subject.attributes);
    cert.setExtensions(extensions);
    cert.sign(forge.pki.privateKeyFromPem(this.keyPem), forge.md.sha256.create());
    return forge.pki.certificateToPem(cert);
  }

  server(): { certPem: string; keyPem: string } {
    const keyPem = rsaKeyPem();
    const key = forge.pki.privateKeyFromPem(keyPem);
    const certPem = this.issue(forge.pki.setRsaPublicKey(key.n, key.e), 'localhost', [
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] },
      { name: 'extKeyUsage', serverAuth: true },
    ]);
    return { certPem, keyPem };
  }

  signCsr(csrPem: string, clientId: string): string {
    const csr = forge.pki.certificationRequestFromPem(csrPem);
    return this.issue(csr.publicKey!, clientId, [{ name: 'extKeyUsage', clientAuth: true }]);
  }
}

type Channel = ServerDuplexStream<gateway.ControlChannelRequest, gateway.ControlChannelResponse>;

export class GatewayRig {
  readonly hellos: gateway.Hello[] = [];
  readonly statuses: gateway.ActionStatusUpdate[] = [];
  /** Goodbyes received, with the client id of the channel that sent each. */
  readonly goodbyes: Array<gateway.Goodbye & { clientId: string }> = [];
  private channel?: Channel;
  private enrolled = 0;

  /** host:port, once listening. */
  address = '';

  private constructor(private readonly server: Server) {}

  static async start(ca: RigCa, name = 'rig'): Promise<GatewayRig> {
    const server = new Server();
    const rig = new GatewayRig(server);
    const impl: gateway.EndpointGatewayServiceServer = {
      enrol(call, callback) {
        if (call.request.enrolmentToken !== RIG_ENROLMENT_TOKEN) {
          callback({ code: status.UNAUTHENTICATED, details: 'enrolment token is unknown, used or expired' });
          return;
        }
        const clientId = `${name}-ep-${++rig.enrolled}`;
        callback(null, { clientId, certificateChainPem: ca.signCsr(call.request.csrPem, clientId), trustBundlePem: ca.rootPem, notAfter: new Date(Date.now() + 86_400_000) });
      },
      renewCertificate(_call, callback) {
        callback({ code: status.UNIMPLEMENTED, details: 'not in the rig' });
      },
      controlChannel(call) {
        let clientId = '';
        call.on('data', (req: gateway.ControlChannelRequest) => {
          const m = req.message;
          if (m?.$case === 'hello') {
            clientId = m.value.clientId;
            rig.hellos.push(m.value);
            rig.channel = call;
            call.write({ message: { $case: 'helloAck', value: gateway.HelloAck.fromPartial({ serverTime: new Date(), clientId: m.value.clientId, heartbeatPolicy: { interval: { seconds: 30, nanos: 0 }, missedHeartbeatsBeforeOffline: 3 } }) } });
          } else if (m?.$case === 'heartbeat') {
            call.write({ message: { $case: 'heartbeatAck', value: { sequence: m.value.sequence, serverTime: new Date() } } });
          } else if (m?.$case === 'actionStatus') {
            rig.statuses.push(m.value);
          } else if (m?.$case === 'goodbye') {
            rig.goodbyes.push({ ...m.value, clientId });
          }
        });
        call.on('end', () => {
          if (rig.channel === call) rig.channel = undefined;
          call.end();
        });
        call.on('error', () => {
          if (rig.channel === call) rig.channel = undefined;
        });
      },
      sessionStream(call) {
        call.end();
      },
    };
    server.addService(gateway.EndpointGatewayServiceService, impl);
    const { certPem, keyPem } = ca.server();
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createSsl(Buffer.from(ca.rootPem), [{ private_key: Buffer.from(keyPem), cert_chain: Buffer.from(certPem) }], false), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
    rig.address = `127.0.0.1:${port}`;
    return rig;
  }

  get connected(): boolean {
    return this.channel !== undefined;
  }

  /** Sends an action over the open control channel. */
  send(action: gateway.Action): void {
    if (!this.channel) throw new Error('no control channel is open on the rig');
    this.channel.write({ message: { $case: 'action', value: action } });
  }

  /** The final status (SUCCEEDED, NOT_SUCCEEDED, ERROR…) reported for an action. */
  async outcome(actionId: string): Promise<gateway.ActionStatusUpdate> {
    const running = [3, 2, 1, 0]; // RUNNING, DOWNLOADING, CREATING, UNSPECIFIED
    return waitFor(() => this.statuses.find((s) => s.actionId === actionId && !running.includes(s.status)), { what: `the outcome of action ${actionId}` });
  }

  close(): void {
    this.server.forceShutdown();
  }
}
