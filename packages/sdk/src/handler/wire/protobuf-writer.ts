const utf8 = new TextEncoder();
const INITIAL_BYTES = 512;
const MAX_KEPT_BYTES = 1024 * 1024;

/**
 * A growing byte buffer for protobuf fields, with length-prefixed nesting (fork/join) as the
 * generated codec's writer has. String and bytes fields are left out when empty (proto3
 * defaults) and refused (false) when the value is not a string or bytes.
 */
export class ProtobufWriter {
  private buffer = new Uint8Array(INITIAL_BYTES);
  private pos = 0;
  private readonly forks: number[] = [];

  /** Empties the writer for reuse; a buffer grown past 1 MiB by one large result is let go. */
  reset(): void {
    if (this.buffer.length > MAX_KEPT_BYTES) this.buffer = new Uint8Array(INITIAL_BYTES);
    this.pos = 0;
    this.forks.length = 0;
  }

  finish(): Uint8Array {
    return this.buffer.slice(0, this.pos);
  }

  byte(value: number): void {
    this.ensure(1);
    (this.buffer as Uint8Array)[this.pos++] = value;
  }

  /** A non-negative integer up to 2^53 as a varint. */
  varint(value: number): void {
    this.ensure(10);
    const buffer = this.buffer;
    while (value > 0x7f) {
      buffer[this.pos++] = (value % 0x80) | 0x80;
      value = Math.floor(value / 0x80);
    }
    buffer[this.pos++] = value;
  }

  /** Starts a length-delimited field; one byte is kept for its length. */
  fork(): void {
    this.forks.push(this.pos);
    this.byte(0);
  }

  /** Ends the last fork: writes its length, moving the content when it needs more than a byte. */
  join(): void {
    const start = this.forks.pop() as number;
    const length = this.pos - start - 1;
    if (length < 0x80) {
      this.buffer[start] = length;
      return;
    }
    const prefix = varintSize(length);
    this.ensure(prefix - 1);
    this.buffer.copyWithin(start + prefix, start + 1, this.pos);
    const end = this.pos + prefix - 1;
    this.pos = start;
    this.varint(length);
    this.pos = end;
  }

  /** A string field, left out when empty; false when the value is not a string. */
  string(tag: number, value: unknown): boolean {
    if (typeof value !== "string") return false;
    const length = value.length;
    if (length === 0) return true;
    this.ensure(length + 6);
    const buffer = this.buffer;
    const start = this.pos;
    buffer[this.pos++] = tag;
    if (length < 0x80) {
      buffer[this.pos++] = length;
      for (let i = 0; i < length; i++) {
        const code = value.charCodeAt(i);
        if (code > 0x7f) {
          this.pos = start;
          return this.utf8String(tag, value);
        }
        buffer[this.pos++] = code;
      }
      return true;
    }
    this.pos = start;
    return this.utf8String(tag, value);
  }

  /** A bytes field, left out when empty; false when the value is not bytes. */
  bytes(tag: number, value: unknown): boolean {
    if (!(value instanceof Uint8Array)) return false;
    if (value.length === 0) return true;
    this.byte(tag);
    this.varint(value.length);
    this.ensure(value.length);
    this.buffer.set(value, this.pos);
    this.pos += value.length;
    return true;
  }

  private utf8String(tag: number, value: string): boolean {
    // TextEncoder, as the generated codec: lone surrogates become U+FFFD in both.
    return this.bytes(tag, utf8.encode(value));
  }

  private ensure(size: number): void {
    const required = this.pos + size;
    if (required <= this.buffer.length) return;
    let length = this.buffer.length * 2;
    while (length < required) length *= 2;
    const grown = new Uint8Array(length);
    grown.set(this.buffer.subarray(0, this.pos));
    this.buffer = grown;
  }
}

function varintSize(value: number): number {
  let size = 1;
  while (value > 0x7f) {
    size++;
    value = Math.floor(value / 0x80);
  }
  return size;
}
