import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { status } from '@grpc/grpc-js';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidArgument, toServiceError } from './errors';
import { type GrpcServerHandle, serviceNameOf, startGrpcServer } from './grpc-server';
import { workspaceRoot } from './testing';

const log = pino({ level: 'silent' });

// A real service definition, made the way ts-proto's are: one unary method over raw bytes.
const echoDefinition: grpc.ServiceDefinition = {
  echo: {
    path: '/dc.test.v1.EchoService/Echo',
    requestStream: false,
    responseStream: false,
    requestSerialize: (b: Buffer) => b,
    requestDeserialize: (b: Buffer) => b,
    responseSerialize: (b: Buffer) => b,
    responseDeserialize: (b: Buffer) => b,
  },
};

function healthClient(port: number) {
  const pkg = grpc.loadPackageDefinition(
    loadSync(join(workspaceRoot, 'node_modules/grpc-health-check/proto/health/v1/health.proto'), { keepCase: true, enums: String }),
  ) as unknown as { grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } } };
  return new pkg.grpc.health.v1.Health(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}

function reflectionClient(port: number) {
  const pkg = grpc.loadPackageDefinition(
    loadSync(join(workspaceRoot, 'node_modules/@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto'), { keepCase: true }),
  ) as unknown as { grpc: { reflection: { v1: { ServerReflection: grpc.ServiceClientConstructor } } } };
  return new pkg.grpc.reflection.v1.ServerReflection(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}

describe('startGrpcServer', () => {
  let handle: GrpcServerHandle | undefined;
  const clients: grpc.Client[] = [];
  afterEach(async () => {
    clients.splice(0).forEach((c) => c.close());
    await handle?.shutdown(100);
    handle = undefined;
  });

  it('serves the app service, health and reflection on one port', async () => {
    handle = await startGrpcServer({
      name: 'test',
      host: '127.0.0.1',
      port: 0,
      log,
      services: [{ definition: echoDefinition, implementation: { echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, call.request) } }],
    });
    expect(handle.port).toBeGreaterThan(0);
    expect(serviceNameOf(echoDefinition)).toBe('dc.test.v1.EchoService');

    const health = healthClient(handle.port);
    clients.push(health);
    const check = (service: string) =>
      new Promise<unknown>((res, rej) => (health as unknown as Record<string, (...a: unknown[]) => void>).Check!({ service }, (e: Error | null, r: unknown) => (e ? rej(e) : res(r))));
    await expect(check('')).resolves.toEqual({ status: 'SERVING' });
    await expect(check('dc.test.v1.EchoService')).resolves.toEqual({ status: 'SERVING' });
    handle.setServing(false);
    await expect(check('')).resolves.toEqual({ status: 'NOT_SERVING' });

    const reflection = reflectionClient(handle.port);
    clients.push(reflection);
    type Listing = { list_services_response?: { service: Array<{ name: string }> } };
    const stream = (reflection as unknown as Record<string, () => grpc.ClientDuplexStream<unknown, Listing>>).ServerReflectionInfo!();
    const listed = await new Promise<string[]>((res, rej) => {
      stream.on('data', (msg: Listing) => {
        res((msg.list_services_response?.service ?? []).map((s) => s.name));
        stream.end();
      });
      stream.on('error', rej);
      stream.write({ list_services: '' });
    });
    expect(listed).toContain('grpc.health.v1.Health');
  });

  it('refuses to start on a port in use, naming it', async () => {
    handle = await startGrpcServer({ name: 'first', host: '127.0.0.1', port: 0, log, services: [] });
    await expect(startGrpcServer({ name: 'second', host: '127.0.0.1', port: handle.port, log, services: [] })).rejects.toThrow(
      new RegExp(`cannot listen on 127.0.0.1:${handle.port} \\(second\\)`),
    );
  });
});

describe('toServiceError', () => {
  it('keeps a domain error’s code and message, hides anything else', () => {
    expect(toServiceError(new InvalidArgument('fqdn', 'label "exa mple" is not a valid DNS label', 'exa mple.com'))).toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: 'fqdn "exa mple.com": label "exa mple" is not a valid DNS label',
    });
    expect(toServiceError(new Error('SQLITE_CONSTRAINT: UNIQUE failed: tokens.hash'))).toMatchObject({
      code: status.INTERNAL,
      details: 'internal error; see the service log',
    });
  });
});
