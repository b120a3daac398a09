import { isUtf8 } from "node:buffer";
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import { addressProblem } from "../config/address-names.js";
import { formatAddress } from "../dispatch/address.js";
import type { Dispatcher } from "../dispatch/dispatcher.js";
import type { Logger } from "../dispatch/logger.js";
import { DispatchErrors } from "../errors/dispatch-errors.js";
import { IoErrors } from "../errors/io-errors.js";
import { SwitchboardError } from "../errors/switchboard-error.js";
import type { AddressRef, StoredMessage, StoredValue } from "../store/records.js";
import { readBody, sendAccepted, sendError } from "./http-util.js";
import { HttpListener } from "./listen.js";
import { listenAddressShape } from "./listen-spec.js";

export const PLAYGROUND_INGRESS_KIND = "io.statefun.playground.v1/ingress";

export const playgroundIngressSpec = z.object({
  // `host` is a Switchboard extension: StateFun's playground bound every interface.
  ...listenAddressShape,
  /** Switchboard extension: largest accepted body. */
  maxBodyBytes: z
    .number()
    .int()
    .positive()
    .default(4 * 1024 * 1024),
});
export type PlaygroundIngressSpec = z.output<typeof playgroundIngressSpec>;

/** Wraps the durable accept of one ingress message (tracing uses it for the ingress span). */
export type AcceptWrapper = (
  headers: IncomingHttpHeaders,
  target: AddressRef,
  accept: () => Promise<StoredMessage>,
) => Promise<StoredMessage>;

const STRING_TYPE = "io.statefun.types/string";
const VENDOR_PREFIX = "application/vnd.";
/** How long a back-pressured client is asked to wait before retrying. */
const RETRY_AFTER_SECONDS = "1";

/**
 * HTTP ingress compatible with StateFun's playground: `POST /<namespace>/<name>/<id>` with
 * the message as the body. `Content-Type: application/vnd.<typename>` names the value's
 * type; without it the body is taken as UTF-8 text and encoded as io.statefun.types/string
 * (the playground passed the raw bytes under that typename, which SDKs could not read).
 * Answers 202 only once the message is durable.
 */
export class PlaygroundIngress {
  private readonly listener: HttpListener;

  constructor(
    private readonly spec: PlaygroundIngressSpec,
    private readonly dispatcher: Dispatcher,
    private readonly logger: Logger,
    private readonly wrapAccept?: AcceptWrapper,
  ) {
    this.listener = new HttpListener(
      {
        host: this.spec.host,
        port: this.spec.port,
        what: "playground ingress",
        limits: this.spec,
        movedBy: "move it with `port:` of its io.statefun.playground.v1/ingress component in the module YAML",
      },
      (request, response) => this.handle(request, response),
    );
  }

  async start(): Promise<number> {
    return this.listener.start();
  }

  get port(): number {
    return this.listener.port;
  }

  get url(): string {
    return this.listener.url;
  }

  async stop(): Promise<void> {
    await this.listener.stop();
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    try {
      if (request.method !== "POST" && request.method !== "PUT") {
        throw new SwitchboardError(
          IoErrors.INGRESS_BAD_METHOD,
          `use POST /<namespace>/<name>/<id>, not ${request.method}`,
        );
      }
      const target = parsePath(request.url ?? "/");
      const body = await readBody(request, this.spec.maxBodyBytes);
      const argument = toArgument(request.headers["content-type"], body);
      const stored = await (this.wrapAccept
        ? this.wrapAccept(request.headers, target, () => this.dispatcher.accept({ target, argument }))
        : this.dispatcher.accept({ target, argument }));
      sendAccepted(response, formatAddress(target), stored.seq);
    } catch (error) {
      if (error instanceof SwitchboardError && error.code === DispatchErrors.BACKPRESSURE.code) {
        sendError(response, error, { "retry-after": RETRY_AFTER_SECONDS });
        return;
      }
      if (error instanceof SwitchboardError && error.code === DispatchErrors.UNKNOWN_FUNCTION.code) {
        sendError(
          response,
          new SwitchboardError(IoErrors.INGRESS_UNKNOWN_FUNCTION, error.message, error.details),
        );
        return;
      }
      if (error instanceof SwitchboardError && error.code === DispatchErrors.STOPPING.code) {
        sendError(response, error, { "retry-after": RETRY_AFTER_SECONDS });
        return;
      }
      if (!(error instanceof SwitchboardError)) {
        this.logger.error({ err: error, path: request.url }, "ingress could not accept a message");
        sendError(
          response,
          new SwitchboardError(IoErrors.INGRESS_UNAVAILABLE, "the message could not be stored; retry"),
        );
        return;
      }
      sendError(response, error);
    }
  }
}

function parsePath(url: string): { fn: string; id: string } {
  const query = url.indexOf("?");
  const path = query === -1 ? url : url.slice(0, query);
  // Exactly three non-empty segments: /<namespace>/<name>/<id>.
  const first = path.indexOf("/", 1);
  const second = first === -1 ? -1 : path.indexOf("/", first + 1);
  const valid =
    path.charCodeAt(0) === 47 &&
    first > 1 &&
    second > first + 1 &&
    second < path.length - 1 &&
    path.indexOf("/", second + 1) === -1;
  if (!valid) {
    throw new SwitchboardError(IoErrors.INGRESS_BAD_PATH, `expected /<namespace>/<name>/<id>, got ${path}`);
  }
  let namespace: string;
  let name: string;
  let id: string;
  try {
    namespace = decodeSegment(path.slice(1, first));
    name = decodeSegment(path.slice(first + 1, second));
    id = decodeSegment(path.slice(second + 1));
  } catch {
    throw new SwitchboardError(IoErrors.INGRESS_BAD_PATH, `the path ${path} is not valid percent-encoding`);
  }
  const problem = addressProblem(namespace, name, id);
  if (problem) throw new SwitchboardError(IoErrors.INGRESS_BAD_PATH, `${problem} in ${path}`);
  return { fn: `${namespace}/${name}`, id };
}

function decodeSegment(segment: string): string {
  return segment.includes("%") ? decodeURIComponent(segment) : segment;
}

function toArgument(contentType: string | undefined, body: Buffer): StoredValue {
  if (contentType !== undefined) {
    const semicolon = contentType.indexOf(";");
    const type = (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim();
    if (
      type.length > VENDOR_PREFIX.length &&
      type.slice(0, VENDOR_PREFIX.length).toLowerCase() === VENDOR_PREFIX
    ) {
      return { typename: type.slice(VENDOR_PREFIX.length), hasValue: true, value: body };
    }
  }
  return { typename: STRING_TYPE, hasValue: true, value: encodeStringWrapper(body) };
}

/**
 * The io.statefun.types/string encoding (StringWrapper, field 1) of UTF-8 text, written
 * directly: `toBinary` costs more than the rest of accepting a small message. Invalid UTF-8
 * is replaced the same way a decode/encode round trip would.
 */
function encodeStringWrapper(body: Buffer): Uint8Array {
  const text = isUtf8(body) ? body : Buffer.from(body.toString("utf8"), "utf8");
  if (text.length === 0) return new Uint8Array(0);
  let length = text.length;
  let varintBytes = 1;
  while (length >= 0x80) {
    length >>>= 7;
    varintBytes++;
  }
  const out = Buffer.allocUnsafe(1 + varintBytes + text.length);
  out[0] = 0x0a;
  let offset = 1;
  length = text.length;
  while (length >= 0x80) {
    out[offset++] = (length & 0x7f) | 0x80;
    length >>>= 7;
  }
  out[offset++] = length;
  text.copy(out, offset);
  return out;
}
