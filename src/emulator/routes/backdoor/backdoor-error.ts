/** Back-door errors use X's envelope too, so one parser reads every error the emulator gives. */
import type { FastifyReply } from 'fastify';
import { xErrorBody } from '../../http/x-error.ts';

export async function backdoorError(reply: FastifyReply, status: number, code: string, message: string): Promise<void> {
  await reply.code(status).send(xErrorBody([{ code, message }], {}));
}

export function nonNegativeInt(value: unknown, fallback: number): number | undefined {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !/^\d+$/.test(value)) return undefined;
  return Number(value);
}
