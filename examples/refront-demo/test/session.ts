/**
 * A tenant's session at the gateway, as an outside HTTP client holds one: its dev token and the
 * JSON calls the system tests make.
 */
import { devToken, http, type Reply } from './http.js';

/** A tenant's token at one gateway, and the calls the system tests make with it. */
export class Session {
  private constructor(
    readonly gatewayUrl: string,
    readonly tenant: string,
    private readonly token: string,
  ) {}

  /**
   * Opens a session of an admin of `tenant` (a dev token from the gateway at `gatewayUrl`): the
   * promises close billing periods, which needs the admin role.
   */
  static async open(gatewayUrl: string, tenant: string): Promise<Session> {
    return new Session(gatewayUrl, tenant, await devToken(gatewayUrl, tenant, ['admin']));
  }

  /** One JSON call; any status. */
  call(method: string, path: string, body?: unknown): Promise<Reply> {
    return http(this.gatewayUrl, method, path, {
      token: this.token,
      ...(body === undefined ? {} : { body }),
    });
  }

  /** One JSON call that must answer 200 or 201; its body. */
  async ok(method: string, path: string, body?: unknown): Promise<Reply['body']> {
    const r = await this.call(method, path, body);
    if (r.status !== 200 && r.status !== 201)
      throw new Error(`${method} ${path} → ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }

  /** Creates a customer; its id. */
  async customer(name: string, hourlyRateMinor: number): Promise<string> {
    return (await this.ok('POST', '/v1/customers', { name, hourlyRateMinor, currency: 'EUR' })).id;
  }

  /** Opens a ticket for `customerId`; its id. */
  async ticket(customerId: string, title: string, priority = 'normal'): Promise<string> {
    return (
      await this.ok('POST', '/v1/tickets', {
        customerId,
        title,
        description: `${title}: details of the problem`,
        priority,
      })
    ).id;
  }

  /** Logs time on a ticket; the reply, whatever its status. */
  logTime(ticketId: string, minutes: number, workDate: string): Promise<Reply> {
    return this.call('POST', `/v1/tickets/${ticketId}/time-entries`, {
      minutes,
      workDate,
      description: 'work',
    });
  }
}
