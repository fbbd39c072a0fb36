// The routes an endpoint dials, from its package (issue #7 §5): the module server directly,
// then each zone proxy; it falls back to the next when one is down and returns when it is back.
import type { commonV1 } from '@dc/proto';

export interface Route {
  /** "direct", or the zone proxy's name. */
  readonly name: string;
  /** host:port */
  readonly address: string;
  /** The name the server's certificate carries, when dialling an address that is not it. */
  readonly serverName?: string;
}

/** Routes of an endpoint package, in the order they are tried (direct first unless disabled). */
export function routesFromConfiguration(c: commonV1.EndpointConfiguration): Route[] {
  const routes: Route[] = [];
  if (!c.directRouteDisabled && c.brokerHost) routes.push({ name: 'direct', address: `${c.brokerHost}:${c.brokerPort || 17475}` });
  for (const z of c.zoneRoutes) routes.push({ name: z.zoneProxyName || z.zoneProxyId, address: `${z.host}:${z.port || 17486}` });
  if (routes.length === 0) throw new Error('the package names no route: broker_host is empty and no zone route is listed');
  return routes;
}

/**
 * Which route to dial now. A failure moves to the next route (wrapping round); a channel that
 * ends on its own starts again from the first; while connected on a fallback longer than
 * `returnAfterMs`, `shouldReturn()` says to try the preferred route again.
 */
export class RouteSelector {
  private index = 0;
  private connectedAt: number | undefined;

  constructor(
    readonly routes: readonly Route[],
    private readonly opts: { returnAfterMs?: number; now?: () => number } = {},
  ) {
    if (routes.length === 0) throw new Error('at least one route is needed');
  }

  current(): Route {
    return this.routes[this.index]!;
  }

  /** The current route could not be reached: the next one is tried. */
  failed(): void {
    this.connectedAt = undefined;
    this.index = (this.index + 1) % this.routes.length;
  }

  connected(): void {
    this.connectedAt = (this.opts.now ?? Date.now)();
  }

  /** Back to the preferred route (after a clean end, or to return from a fallback). */
  reset(): void {
    this.connectedAt = undefined;
    this.index = 0;
  }

  /** On a fallback route, connected for longer than returnAfterMs: time to try the preferred one. */
  shouldReturn(): boolean {
    if (this.index === 0 || this.connectedAt === undefined) return false;
    return (this.opts.now ?? Date.now)() - this.connectedAt >= (this.opts.returnAfterMs ?? 300_000);
  }
}
