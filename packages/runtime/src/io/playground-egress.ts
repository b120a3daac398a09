import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import type { Logger } from "../dispatch/logger.js";
import { IoErrors } from "../errors/io-errors.js";
import { SwitchboardError } from "../errors/switchboard-error.js";
import type { StoreBackend } from "../store/contract.js";
import type { NewEgressRecord, StoredEgressRecord, StoredValue } from "../store/records.js";
import type { EgressSink } from "./egress-sink.js";
import { sendError, sendJson } from "./http-util.js";
import { HttpListener } from "./listen.js";
import { listenAddressShape } from "./listen-spec.js";

export const PLAYGROUND_EGRESS_KIND = "io.statefun.playground.v1/egress";
/** The egress id functions send to, fixed by the playground. */
export const PLAYGROUND_EGRESS_ID = "io.statefun.playground/egress";
export const PLAYGROUND_RECORD_TYPE = "io.statefun.playground/EgressRecord";

export const playgroundEgressSpec = z.object({
  // `host` is a Switchboard extension: StateFun's playground bound every interface.
  ...listenAddressShape,
  topics: z.array(z.string().min(1)).min(1),
});
export type PlaygroundEgressSpec = z.output<typeof playgroundEgressSpec>;

const recordShape = z.object({ topic: z.string(), payload: z.unknown() });

/**
 * StateFun playground egress: functions send `{topic, payload}` JSON records; `GET /<topic>`
 * pops the oldest. Unlike the playground's bounded in-memory queues, records are durable and
 * never dropped; a pop is committed before the record is handed out.
 */
export class PlaygroundEgress implements EgressSink {
  private readonly listener: HttpListener;
  readonly id = PLAYGROUND_EGRESS_ID;
  readonly kind = PLAYGROUND_EGRESS_KIND;
  private readonly topics: ReadonlySet<string>;

  constructor(
    private readonly spec: PlaygroundEgressSpec,
    private readonly store: StoreBackend,
    private readonly logger: Logger,
  ) {
    this.listener = new HttpListener(
      {
        host: this.spec.host,
        port: this.spec.port,
        what: "playground egress",
        limits: this.spec,
        movedBy: "move it with `port:` of its io.statefun.playground.v1/egress component in the module YAML",
      },
      (request, response) => this.handle(request, response),
    );
    this.topics = new Set(spec.topics);
  }

  accept(value: StoredValue): NewEgressRecord {
    if (value.typename !== PLAYGROUND_RECORD_TYPE) {
      throw invalidRecord(
        `the playground egress takes ${PLAYGROUND_RECORD_TYPE} records, not ${value.typename}`,
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(value.value).toString("utf8"));
    } catch {
      throw invalidRecord("the egress record is not valid JSON");
    }
    const record = recordShape.safeParse(parsed);
    if (!record.success)
      throw invalidRecord('the egress record must be a JSON object {"topic": string, "payload": ...}');
    if (!this.topics.has(record.data.topic)) {
      throw invalidRecord(
        `the egress record names topic "${record.data.topic}", not one of ${[...this.topics].join(", ")}`,
      );
    }
    const payload =
      typeof record.data.payload === "string" ? record.data.payload : JSON.stringify(record.data.payload);
    return {
      egress: this.id,
      topic: record.data.topic,
      typename: value.typename,
      value: Buffer.from(payload, "utf8"),
    };
  }

  notify(): void {
    // Pull-based: consumers poll GET /<topic>.
  }

  async start(): Promise<void> {
    await this.listener.start();
  }

  get port(): number {
    return this.listener.port;
  }

  async stop(): Promise<void> {
    await this.listener.stop();
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    try {
      const topic = decodeURIComponent((request.url ?? "/").split("?")[0]?.slice(1) ?? "");
      if (!this.topics.has(topic)) {
        throw new SwitchboardError(IoErrors.EGRESS_UNKNOWN_TOPIC, `unknown topic "${topic}"`, { topic });
      }
      if (request.method !== "GET") {
        sendJson(response, 405, { error: { code: "SB_EGRESS_BAD_METHOD", message: "use GET /<topic>" } });
        return;
      }
      const record = await this.pop(topic);
      if (!record) {
        response.writeHead(404, { "content-length": 0 }).end();
        return;
      }
      response.writeHead(200, {
        "content-type": "application/octet-stream",
        "content-length": record.value.length,
      });
      response.end(record.value);
    } catch (error) {
      if (!(error instanceof SwitchboardError)) this.logger.error({ err: error }, "playground egress failed");
      sendError(response, error);
    }
  }

  /** Takes the oldest record out in one store unit, so two concurrent pops never return the same record. */
  private pop(topic: string): Promise<StoredEgressRecord | undefined> {
    return this.store.egress.pop(this.id, topic);
  }
}

function invalidRecord(message: string): SwitchboardError {
  return new SwitchboardError(IoErrors.EGRESS_INVALID_RECORD, message);
}
