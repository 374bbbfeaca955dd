/**
 * A webhook receiver on 127.0.0.1 for the alert tests: it checks every signature itself (its own
 * HMAC over the raw body, not Tailor's code, and the timestamp against its clock), answers
 * `status` (500 to start with, so a test sees retries) and records what came.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  id: string;
  type: string;
  body: any;
  /** The signature matched and the timestamp was within 5 minutes of the receiver's clock. */
  signed: boolean;
  answered: number;
}

export class Receiver {
  status = 500;
  readonly received: Received[] = [];
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  /** `now`: the receiver's clock (epoch ms); a test that moves Tailor's clock moves this one with it. */
  static async start(secret: string, now: () => number = Date.now): Promise<Receiver> {
    const ref: { self?: Receiver } = {};
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const timestamp = String(req.headers['x-tailor-timestamp'] ?? '');
        const want = Buffer.from(`sha256=${createHmac('sha256', secret).update(`${timestamp}.${raw}`).digest('hex')}`);
        const got = Buffer.from(String(req.headers['x-tailor-signature'] ?? ''));
        const fresh = /^\d+$/.test(timestamp) && Math.abs(now() / 1000 - Number(timestamp)) < 300;
        const body = JSON.parse(raw);
        const answered = ref.self!.status;
        ref.self!.received.push({ id: body.id, type: body.type, body, signed: fresh && want.length === got.length && timingSafeEqual(want, got), answered });
        res.statusCode = answered;
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    ref.self = new Receiver(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/tailor`);
    return ref.self;
  }

  delivered(): Received[] {
    return this.received.filter((r) => r.answered >= 200 && r.answered < 300);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
