import { SdkError, SdkErrors } from "../errors.js";
import { hostBridge } from "./host-bridge.js";

const kRef = Symbol.for("switchboard.data-ref");

/** Where a Data's bytes are: in the host (by id) or already in this worker. */
export type DataRef = { readonly id: number } | { readonly bytes: Uint8Array };

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/**
 * A handle to bytes. Bodies the host receives (request bodies, upstream responses) stay in
 * the host; a Data only carries their id. Passing a Data on (as an outbound body or a
 * response body) moves the bytes host-side without copying them into the function;
 * `bytes()`, `text()` and `json()` bring them in when the function needs to look.
 */
export class Data {
  private readonly [kRef]: DataRef;

  private constructor(ref: DataRef) {
    this[kRef] = ref;
  }

  /** Bytes the function made itself. */
  static from(value: Uint8Array | string): Data {
    return new Data({ bytes: typeof value === "string" ? encoder.encode(value) : value });
  }

  /** A handle to host-held bytes (used by the host's worker). */
  static fromHost(id: number): Data {
    return new Data({ id });
  }

  /** A Data from its wire form (used by the host's worker). */
  static fromRef(ref: DataRef): Data {
    return new Data(ref);
  }

  static isData(value: unknown): value is Data {
    return typeof value === "object" && value !== null && kRef in value;
  }

  /** The wire form of a Data (used by the host's worker). */
  static refOf(data: Data): DataRef {
    return data[kRef];
  }

  /** True when the bytes are still in the host. */
  get inHost(): boolean {
    return "id" in this[kRef];
  }

  async bytes(): Promise<Uint8Array> {
    const ref = this[kRef];
    if ("bytes" in ref) return ref.bytes;
    const buffer = (await hostBridge("Data.bytes()").call("data.read", { id: ref.id })) as ArrayBuffer;
    return new Uint8Array(buffer);
  }

  async text(): Promise<string> {
    return decoder.decode(await this.bytes());
  }

  /** Parses the bytes as JSON; throws SB_SDK_BAD_INPUT when they are not JSON. */
  async json<T = unknown>(): Promise<T> {
    const text = await this.text();
    try {
      return JSON.parse(text) as T;
    } catch (error) {
      throw new SdkError(SdkErrors.BAD_INPUT, `not JSON: ${(error as Error).message}`, { cause: error });
    }
  }
}
