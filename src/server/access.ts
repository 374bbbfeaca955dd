/**
 * Who may call each route. Every route is registered inside an access scope (an encapsulated
 * Fastify plugin, `AccessScopes.register`) that gives it one access class and makes the class's
 * checks the route's first hooks. The checks belong to the route the router matched, not to a
 * URL prefix, so no spelling of a path (percent-encoded letters, an absolute-form target
 * `GET http://host/api/v1/… HTTP/1.1`, …) reaches a handler without them. A route registered
 * outside every scope stops start-up.
 *
 *   health    /healthz, /readyz, /metrics: no credential, any Host (load balancers, scrapers)
 *   public    the UI routes a signed-out browser needs (sign-in, assets, X's callback); Host checked
 *   session   the rest of the UI: the session cookie; Host checked
 *   bearer    /api/v1: `Authorization: Bearer <TAILOR_ADMIN_TOKEN>`, or the UI session plus its
 *             CSRF header; Host checked
 *   firehose  POST /firehose: `Authorization: Token <TAILOR_FIREHOSE_TOKEN>` (guards.ts)
 */
import type { FastifyInstance, onRequestAsyncHookHandler, preHandlerAsyncHookHandler, preParsingAsyncHookHandler, RouteOptions } from 'fastify';

export type Access = 'health' | 'public' | 'session' | 'bearer' | 'firehose';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route's access class, set by its scope. */
    access?: Access;
  }
}

/** The hooks that enforce one access class, run before any of the route's own. */
export interface Guard {
  onRequest?: onRequestAsyncHookHandler;
  preParsing?: preParsingAsyncHookHandler;
  preHandler?: preHandlerAsyncHookHandler;
}

export interface RouteAccess {
  method: string;
  url: string;
  access: Access;
}

export interface ScopeOptions {
  /** The body limit of the scope's routes that set none (the server's default otherwise). */
  bodyLimit?: number;
}

/** A route's class: one for the whole scope, or chosen per route from its method and pattern. */
export type Classify = Access | ((method: string, url: string) => Access);

const tables = new WeakMap<FastifyInstance, RouteAccess[]>();

/** Every route of an app with its access class, in registration order (HEAD routes included). */
export function routeAccess(app: FastifyInstance): readonly RouteAccess[] {
  return tables.get(app) ?? [];
}

const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

export class AccessScopes {
  private readonly table: RouteAccess[] = [];

  constructor(
    private readonly app: FastifyInstance,
    private readonly guards: Record<Access, Guard>,
  ) {
    tables.set(app, this.table);
    // Runs first for every route: one registered on the root itself has no class (fail closed).
    app.addHook('onRoute', function (this: FastifyInstance, route) {
      if (this === app) throw new Error(`${String(route.method)} ${route.url} is registered outside an access scope (src/server/access.ts)`);
    });
  }

  /** Registers routes inside a scope whose routes get the class `classify` gives them. */
  async register(classify: Classify, routes: (scope: FastifyInstance) => void | Promise<void>, o: ScopeOptions = {}): Promise<void> {
    await this.app.register(async (scope) => {
      scope.addHook('onRoute', (route: RouteOptions) => {
        const methods = asArray(route.method).map(String);
        const classes = new Set(methods.map((m) => (typeof classify === 'function' ? classify(m, route.url) : classify)));
        if (classes.size !== 1) throw new Error(`${methods.join(',')} ${route.url}: one route, one access class`);
        const access = [...classes][0]!;
        const guard = this.guards[access];
        route.config = { ...route.config, access };
        // The guard's hooks go first, so the route's own hooks never run for a refused caller.
        if (guard.onRequest) route.onRequest = [guard.onRequest, ...asArray(route.onRequest)];
        if (guard.preParsing) route.preParsing = [guard.preParsing, ...asArray(route.preParsing)];
        if (guard.preHandler) route.preHandler = [guard.preHandler, ...asArray(route.preHandler)];
        if (o.bodyLimit !== undefined && route.bodyLimit === undefined) route.bodyLimit = o.bodyLimit;
        for (const method of methods) this.table.push({ method, url: route.url, access });
      });
      await routes(scope);
    });
  }
}
