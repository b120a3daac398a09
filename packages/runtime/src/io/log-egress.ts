import { z } from "zod";
import type { Logger } from "../dispatch/logger.js";
import type { StoreBackend } from "../store/contract.js";
import type { NewEgressRecord, StoredEgressRecord, StoredValue } from "../store/records.js";
import type { EgressSink } from "./egress-sink.js";
import { OutboxDeliverer } from "./outbox-deliverer.js";

export const LOG_EGRESS_KIND = "io.switchboard.v1/log-egress";

export const logEgressSpec = z.object({
  /** The egress id functions send to, `namespace/type`. */
  id: z.string().regex(/^.+\/[^/]+$/, "expected an egress id namespace/type"),
});
export type LogEgressSpec = z.output<typeof logEgressSpec>;

/** For development: every record becomes one log line (text when it decodes as UTF-8). */
export class LogEgress implements EgressSink {
  readonly kind = LOG_EGRESS_KIND;
  readonly id: string;
  private readonly deliverer: OutboxDeliverer;

  constructor(spec: LogEgressSpec, store: StoreBackend, logger: Logger) {
    this.id = spec.id;
    const log = logger.child({ egress: spec.id });
    this.deliverer = new OutboxDeliverer(
      this.id,
      store.egress,
      async (record) => log.info(describe(record), "egress record"),
      log,
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

function describe(record: StoredEgressRecord): object {
  const text = new TextDecoder("utf-8", { fatal: false }).decode(record.value);
  const printable = !text.includes("\uFFFD") && /^[\P{Cc}\n\r\t]*$/u.test(text);
  return {
    seq: record.seq,
    typename: record.typename,
    ...(printable ? { text } : { base64: Buffer.from(record.value).toString("base64") }),
  };
}
