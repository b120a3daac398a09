import { SdkError, SdkErrors } from "../errors.js";
import { BOOL, DOUBLE, FLOAT, INT, LONG, STRING } from "../types/builtin-types.js";
import type { Type } from "../types/type.js";

/** A typed value as the protocol carries it. */
export interface TypedValue {
  readonly typename: string;
  readonly hasValue: boolean;
  readonly value: Uint8Array;
}

/** The message a function is invoked with. */
export class Message {
  constructor(private readonly typed: TypedValue) {}

  get typename(): string {
    return this.typed.typename;
  }

  /** The value's bytes as received. */
  get rawValue(): Uint8Array {
    return this.typed.value;
  }

  is(type: Type<unknown>): boolean {
    return this.typed.typename === type.typename;
  }

  /** Reads the value as `type`; throws when the typename says it is something else. */
  as<T>(type: Type<T>): T {
    if (!this.is(type)) {
      throw new SdkError(
        SdkErrors.INVALID_VALUE,
        `the message is ${this.typed.typename}, not ${type.typename}`,
      );
    }
    return type.deserialize(this.typed.value);
  }

  isString(): boolean {
    return this.is(STRING);
  }
  asString(): string {
    return this.as(STRING);
  }
  isInt(): boolean {
    return this.is(INT);
  }
  asInt(): number {
    return this.as(INT);
  }
  isLong(): boolean {
    return this.is(LONG);
  }
  asLong(): bigint {
    return this.as(LONG);
  }
  isBool(): boolean {
    return this.is(BOOL);
  }
  asBool(): boolean {
    return this.as(BOOL);
  }
  isFloat(): boolean {
    return this.is(FLOAT);
  }
  asFloat(): number {
    return this.as(FLOAT);
  }
  isDouble(): boolean {
    return this.is(DOUBLE);
  }
  asDouble(): number {
    return this.as(DOUBLE);
  }
}

/** Serializes `value` as `type` into the protocol's TypedValue. */
export function typedValue<T>(type: Type<T>, value: T): TypedValue {
  return { typename: type.typename, hasValue: true, value: type.serialize(value) };
}
