import { splitTypename } from "../dispatch/address.js";
import type { AddressRef, StateSpec, StateValue, StoredMessage, StoredValue } from "../store/records.js";

/**
 * Writes the ToFunction bytes of one batch directly, byte-identical to what the generated
 * encoder produces for `buildBatchRequest` (a test holds the two together). The batch goes
 * out once per invocation, so it is worth skipping the message objects and the reflective
 * encoder: sizes are computed first, then every field is written into one buffer.
 *
 * Field numbers (request-reply.proto): ToFunction.invocation = 100; InvocationBatchRequest
 * target = 1, state = 2, invocations = 3; PersistedValue state_name = 1, state_value = 2;
 * Invocation caller = 1, argument = 2; Address namespace/type/id = 1/2/3; TypedValue
 * typename = 1, has_value = 2, value = 3. Proto3: empty strings/bytes and false are omitted,
 * sub-messages that are set are always written.
 */
export function encodeBatchRequest(
  target: AddressRef,
  specs: readonly StateSpec[],
  values: ReadonlyMap<string, StateValue>,
  batch: readonly StoredMessage[],
): Uint8Array {
  const targetAddress = protocolAddress(target);
  const targetSize = addressSize(targetAddress);
  let bodySize = messageFieldSize(targetSize);

  const stateSizes = new Array<number>(specs.length);
  const stateValueSizes = new Array<number>(specs.length);
  for (let index = 0; index < specs.length; index++) {
    const spec = specs[index] as StateSpec;
    const live = values.get(spec.name);
    let size = stringFieldSize(spec.name);
    if (live) {
      const valueSize = stringFieldSize(spec.typename) + 2 + bytesFieldSize(live.value.length);
      stateValueSizes[index] = valueSize;
      size += messageFieldSize(valueSize);
    } else {
      stateValueSizes[index] = -1;
    }
    stateSizes[index] = size;
    bodySize += messageFieldSize(size);
  }

  const callers = new Array<ProtocolAddress | undefined>(batch.length);
  const callerSizes = new Array<number>(batch.length);
  const argumentSizes = new Array<number>(batch.length);
  const invocationSizes = new Array<number>(batch.length);
  for (let index = 0; index < batch.length; index++) {
    const message = batch[index] as StoredMessage;
    let size = 0;
    if (message.caller) {
      const caller = protocolAddress(message.caller);
      callers[index] = caller;
      callerSizes[index] = addressSize(caller);
      size += messageFieldSize(callerSizes[index] as number);
    }
    const argumentSize = typedValueSize(message.argument);
    argumentSizes[index] = argumentSize;
    size += messageFieldSize(argumentSize);
    invocationSizes[index] = size;
    bodySize += messageFieldSize(size);
  }

  const out = new Writer(varintSize(ONEOF_TAG) + varintSize(bodySize) + bodySize);
  out.tag(100, 2);
  out.varint(bodySize);
  out.tag(1, 2);
  out.varint(targetSize);
  out.address(targetAddress);
  for (let index = 0; index < specs.length; index++) {
    const spec = specs[index] as StateSpec;
    out.tag(2, 2);
    out.varint(stateSizes[index] as number);
    out.string(1, spec.name);
    const valueSize = stateValueSizes[index] as number;
    if (valueSize >= 0) {
      const live = values.get(spec.name) as StateValue;
      out.tag(2, 2);
      out.varint(valueSize);
      out.string(1, spec.typename);
      out.tag(2, 0);
      out.varint(1);
      out.bytes(3, live.value);
    }
  }
  for (let index = 0; index < batch.length; index++) {
    const message = batch[index] as StoredMessage;
    out.tag(3, 2);
    out.varint(invocationSizes[index] as number);
    const caller = callers[index];
    if (caller) {
      out.tag(1, 2);
      out.varint(callerSizes[index] as number);
      out.address(caller);
    }
    out.tag(2, 2);
    out.varint(argumentSizes[index] as number);
    out.typedValue(message.argument);
  }
  return out.finish();
}

/** ToFunction.invocation: field 100, length-delimited. */
const ONEOF_TAG = 100 * 8 + 2;

interface ProtocolAddress {
  readonly namespace: string;
  readonly type: string;
  readonly id: string;
}

function protocolAddress(address: AddressRef): ProtocolAddress {
  const parts = splitTypename(address.fn);
  return { namespace: parts?.namespace ?? "", type: parts?.name ?? address.fn, id: address.id };
}

function varintSize(value: number): number {
  let size = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    size++;
  }
  return size;
}

/** Tags of fields 1..15 are one byte; field 100 (the oneof) is two, counted by the caller. */
function stringFieldSize(value: string): number {
  if (value.length === 0) return 0;
  const length = Buffer.byteLength(value, "utf8");
  return 1 + varintSize(length) + length;
}

function bytesFieldSize(length: number): number {
  return length === 0 ? 0 : 1 + varintSize(length) + length;
}

function messageFieldSize(size: number): number {
  return 1 + varintSize(size) + size;
}

function addressSize(address: ProtocolAddress): number {
  return stringFieldSize(address.namespace) + stringFieldSize(address.type) + stringFieldSize(address.id);
}

function typedValueSize(value: StoredValue): number {
  return stringFieldSize(value.typename) + (value.hasValue ? 2 : 0) + bytesFieldSize(value.value.length);
}

class Writer {
  private readonly buffer: Buffer;
  private offset = 0;

  constructor(size: number) {
    this.buffer = Buffer.allocUnsafe(size);
  }

  tag(field: number, wireType: number): void {
    this.varint(field * 8 + wireType);
  }

  varint(value: number): void {
    while (value >= 0x80) {
      this.buffer[this.offset++] = (value & 0x7f) | 0x80;
      value = Math.floor(value / 128);
    }
    this.buffer[this.offset++] = value;
  }

  string(field: number, value: string): void {
    if (value.length === 0) return;
    this.tag(field, 2);
    this.varint(Buffer.byteLength(value, "utf8"));
    this.offset += this.buffer.write(value, this.offset, "utf8");
  }

  bytes(field: number, value: Uint8Array): void {
    if (value.length === 0) return;
    this.tag(field, 2);
    this.varint(value.length);
    this.buffer.set(value, this.offset);
    this.offset += value.length;
  }

  address(address: ProtocolAddress): void {
    this.string(1, address.namespace);
    this.string(2, address.type);
    this.string(3, address.id);
  }

  typedValue(value: StoredValue): void {
    this.string(1, value.typename);
    if (value.hasValue) {
      this.tag(2, 0);
      this.varint(1);
    }
    this.bytes(3, value.value);
  }

  finish(): Uint8Array {
    if (this.offset !== this.buffer.length) {
      throw new Error(`ToFunction encoder wrote ${this.offset} of ${this.buffer.length} bytes`);
    }
    return this.buffer;
  }
}
