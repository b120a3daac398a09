import { fromBinary } from "@bufbuild/protobuf";
import { SdkError, SdkErrors } from "../../errors.js";
import { ToFunctionSchema } from "../../protocol/index.js";
import type { InvocationBatch, WireAddress, WireTypedValue } from "./invocation-batch.js";

/** The invocation batch of a ToFunction; throws SB_SDK_BAD_REQUEST for anything else. */
export function decodeInvocationBatch(bytes: Uint8Array): InvocationBatch {
  return decodeByHand(bytes) ?? decodeGenerically(bytes);
}

/**
 * Reads a ToFunction invocation batch by hand when it is encoded the way every protobuf
 * encoder writes one (each singular field at most once, no unknown fields, field 100 alone),
 * and returns undefined for anything else, so that the generated codec decides: it accepts,
 * merges or rejects exactly as before. For the bytes it does accept, the result holds what
 * the generated codec would give (same strings, byte fields as views of `bytes`, the same
 * defaults) without the generic codec's cost, a quarter of a small request's CPU time.
 */
export function decodeByHand(bytes: Uint8Array): InvocationBatch | undefined {
  // ToFunction: tag of field 100 (a2 06), the batch's length, the batch, nothing after it.
  if (bytes.length < 3 || bytes[0] !== 0xa2 || bytes[1] !== 0x06) return undefined;
  try {
    const reader = new Reader(bytes, 2);
    const end = reader.length();
    if (end !== bytes.length) return undefined;
    return reader.batch(end);
  } catch {
    return undefined; // NOT_CANONICAL, or a string that is not UTF-8
  }
}

/** Through the generated codec, which accepts, merges or rejects any input as it always did. */
function decodeGenerically(bytes: Uint8Array): InvocationBatch {
  try {
    const request = fromBinary(ToFunctionSchema, bytes);
    if (request.request.case !== "invocation") throw new Error("no invocation batch");
    return request.request.value;
  } catch (error) {
    throw new SdkError(
      SdkErrors.BAD_REQUEST,
      "the request body is not a StateFun ToFunction invocation batch",
      {
        cause: error,
      },
    );
  }
}

/** Proto3 strings must be UTF-8; the generated codec decodes them with a fatal decoder. */
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Thrown (and caught in decodeByHand) when the input is not in the shape this reader takes. */
const NOT_CANONICAL = Symbol("not canonical");

// Tags: field number << 3 | wire type (2 = length-delimited, 0 = varint).
const FIELD_1_LEN = 0x0a;
const FIELD_2_LEN = 0x12;
const FIELD_3_LEN = 0x1a;
const FIELD_2_VARINT = 0x10;

class Reader {
  constructor(
    private readonly bytes: Uint8Array,
    private pos: number,
  ) {}

  batch(end: number): InvocationBatch {
    let target: WireAddress | undefined;
    const state: Array<{ stateName: string; stateValue: WireTypedValue | undefined }> = [];
    const invocations: Array<{ caller: WireAddress | undefined; argument: WireTypedValue | undefined }> = [];
    while (this.pos < end) {
      const tag = this.bytes[this.pos++];
      const fieldEnd = this.length();
      if (tag === FIELD_1_LEN && target === undefined) target = this.address(fieldEnd);
      else if (tag === FIELD_2_LEN) state.push(this.persistedValue(fieldEnd));
      else if (tag === FIELD_3_LEN) invocations.push(this.invocation(fieldEnd));
      else throw NOT_CANONICAL;
    }
    return { target, state, invocations };
  }

  /** Reads a length prefix and returns where the field it prefixes ends. */
  length(): number {
    const bytes = this.bytes;
    let value = 0;
    // Up to four bytes: 256 MiB, far above any body the adapters accept.
    for (let shift = 0; shift < 28; shift += 7) {
      const byte = bytes[this.pos++];
      if (byte === undefined) throw NOT_CANONICAL;
      value |= (byte & 0x7f) << shift;
      if (byte < 0x80) {
        const end = this.pos + value;
        if (end > bytes.length) throw NOT_CANONICAL;
        return end;
      }
    }
    throw NOT_CANONICAL;
  }

  private address(end: number): WireAddress {
    let namespace: string | undefined;
    let type: string | undefined;
    let id: string | undefined;
    while (this.pos < end) {
      const tag = this.bytes[this.pos++];
      const fieldEnd = this.length();
      if (tag === FIELD_1_LEN && namespace === undefined) namespace = this.string(fieldEnd);
      else if (tag === FIELD_2_LEN && type === undefined) type = this.string(fieldEnd);
      else if (tag === FIELD_3_LEN && id === undefined) id = this.string(fieldEnd);
      else throw NOT_CANONICAL;
    }
    this.expectEnd(end);
    return { namespace: namespace ?? "", type: type ?? "", id: id ?? "" };
  }

  private persistedValue(end: number): { stateName: string; stateValue: WireTypedValue | undefined } {
    let stateName: string | undefined;
    let stateValue: WireTypedValue | undefined;
    while (this.pos < end) {
      const tag = this.bytes[this.pos++];
      const fieldEnd = this.length();
      if (tag === FIELD_1_LEN && stateName === undefined) stateName = this.string(fieldEnd);
      else if (tag === FIELD_2_LEN && stateValue === undefined) stateValue = this.typedValue(fieldEnd);
      else throw NOT_CANONICAL;
    }
    this.expectEnd(end);
    return { stateName: stateName ?? "", stateValue };
  }

  private invocation(end: number): { caller: WireAddress | undefined; argument: WireTypedValue | undefined } {
    let caller: WireAddress | undefined;
    let argument: WireTypedValue | undefined;
    while (this.pos < end) {
      const tag = this.bytes[this.pos++];
      const fieldEnd = this.length();
      if (tag === FIELD_1_LEN && caller === undefined) caller = this.address(fieldEnd);
      else if (tag === FIELD_2_LEN && argument === undefined) argument = this.typedValue(fieldEnd);
      else throw NOT_CANONICAL;
    }
    this.expectEnd(end);
    return { caller, argument };
  }

  private typedValue(end: number): WireTypedValue {
    let typename: string | undefined;
    let hasValue: boolean | undefined;
    let value: Uint8Array | undefined;
    while (this.pos < end) {
      const tag = this.bytes[this.pos++];
      if (tag === FIELD_2_VARINT && hasValue === undefined) {
        // A bool is one varint byte, 0 or 1, from every encoder; longer forms go the long way.
        const byte = this.bytes[this.pos++];
        if (byte !== 0 && byte !== 1) throw NOT_CANONICAL;
        hasValue = byte === 1;
        continue;
      }
      const fieldEnd = this.length();
      if (tag === FIELD_1_LEN && typename === undefined) typename = this.string(fieldEnd);
      else if (tag === FIELD_3_LEN && value === undefined) {
        value = this.bytes.subarray(this.pos, fieldEnd);
        this.pos = fieldEnd;
      } else throw NOT_CANONICAL;
    }
    this.expectEnd(end);
    return { typename: typename ?? "", hasValue: hasValue ?? false, value: value ?? new Uint8Array(0) };
  }

  private string(end: number): string {
    const bytes = this.bytes;
    const start = this.pos;
    this.pos = end;
    if (end - start <= ASCII_MAX_LENGTH) {
      let text = "";
      for (let i = start; i < end; i++) {
        const byte = bytes[i] as number;
        if (byte > 0x7f) return utf8.decode(bytes.subarray(start, end)); // throws on bad UTF-8
        text += String.fromCharCode(byte);
      }
      return text;
    }
    return utf8.decode(bytes.subarray(start, end));
  }

  /** A field whose length ran past its parent's end is not something this reader takes. */
  private expectEnd(end: number): void {
    if (this.pos !== end) throw NOT_CANONICAL;
  }
}

/** Short ASCII strings are built in JS; the native decoder's call costs more for them. */
const ASCII_MAX_LENGTH = 32;
