/** Logs one answered X call and counts it in the stats. */
import type { FastifyRequest } from 'fastify';
import type { LoggedCall } from '../observe/request-log.ts';
import type { World } from '../world/world.ts';
import { bodyBytesOf } from './body.ts';
import { pathOf } from './request-info.ts';

export type CallFields = Partial<Omit<LoggedCall, 'seq' | 'at' | 'method' | 'path' | 'route' | 'status' | 'bytes'>>;

export function recordCall(world: World, request: FastifyRequest, at: number, route: string, status: number, fields: CallFields = {}): void {
  world.stats.count(route, status);
  world.log.record({
    at,
    method: request.method,
    path: pathOf(request.raw.url ?? '/'),
    route,
    status,
    account_id: fields.account_id ?? null,
    audience_id: fields.audience_id ?? null,
    operations: fields.operations ?? null,
    users: fields.users ?? null,
    bytes: bodyBytesOf(request.body),
    token: fields.token ?? null,
    rate_limit_reset: fields.rate_limit_reset ?? null,
    fault: fields.fault ?? null,
    auth_failure: fields.auth_failure ?? null,
  });
}
