import { z } from "zod";
import type { Logger } from "../dispatch/logger.js";
import type { StoreBackend } from "../store/contract.js";
import type { NewEgressRecord, StoredValue } from "../store/records.js";
import type { Transport, TransportOptions } from "../transport/types.js";
import type { EgressSink } from "./egress-sink.js";
import { OutboxDeliverer } from "./outbox-deliverer.js";

export const WEBHOOK_EGRESS_KIND = "io.switchboard.v1/webhook-egress";

export const webhookEgressSpec = z.object({
  /** The egress id functions send to, `namespace/type`. */
  id: z.string().regex(/^.+\/[^/]+$/, "expected an egress id namespace/type"),
  /** Where each record is POSTed: http, https, http+unix or https+unix. */
  url: z.string().min(1),
  /** Extra request headers (e.g. an authorization token). */
  headers: z.record(z.string(), z.string()).default({}),
});
export type WebhookEgressSpec = z.output<typeof webhookEgressSpec>;

/**
 * POSTs each record to a URL through the host's transport, in order and at least once.
 * `Idempotency-Key: <egress id>/<seq>` lets the receiver drop a redelivery after a crash, or
 * after a cluster partition changed hands (see OutboxDeliverer: the same key both times).
 * The body is the record's value; `Content-Type: application/vnd.<typename>` names its type.
 */
export class WebhookEgress implements EgressSink {
  readonly kind = WEBHOOK_EGRESS_KIND;
  readonly id: string;
  private readonly deliverer: OutboxDeliverer;

  constructor(
    spec: WebhookEgressSpec,
    store: StoreBackend,
    transport: Transport,
    options: TransportOptions,
    logger: Logger,
  ) {
    this.id = spec.id;
    this.deliverer = new OutboxDeliverer(
      this.id,
      store.egress,
      async (record) => {
        await transport.exchange(
          {
            url: spec.url,
            method: "POST",
            headers: {
              ...spec.headers,
              "content-type": `application/vnd.${record.typename}`,
              "idempotency-key": `${this.id}/${record.seq}`,
            },
            body: record.value,
            options,
          },
          () => undefined,
        );
      },
      logger.child({ egress: spec.id }),
    );
  }

  accept(value: StoredValue): NewEgressRecord {
    return { egress: this.id, typename: value.typename, value: value.value };
  }

  notify(): void {
    this.deliverer.wake();
  }

  async start(): Promise<void> {
    this.deliverer.wake();
  }

  stop(): Promise<void> {
    return this.deliverer.stop();
  }
}
