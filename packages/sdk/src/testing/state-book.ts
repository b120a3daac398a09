/**
 * The TestRuntime's state: the specs each function type has registered (learned from its
 * missing-state replies, as the real runtime does) and each address's values with their
 * expiry, on the runtime's fake clock.
 */
import type { Address } from "../api/address.js";
import { SdkError, SdkErrors } from "../errors.js";

export type ExpireMode = "none" | "after-invoke" | "after-write";

export interface RegisteredSpec {
  readonly name: string;
  readonly typename: string;
  readonly mode: ExpireMode;
  readonly ttlMs: number;
}

interface StoredValue {
  readonly typename: string;
  readonly bytes: Uint8Array;
  expiresAt: number | undefined;
}

const addressKey = (address: Address) => `${address.typename}\u0000${address.id}`;

export class StateBook {
  private readonly specs = new Map<string, Map<string, RegisteredSpec>>();
  private readonly values = new Map<string, Map<string, StoredValue>>();

  /** Registers specs for a function type; the first registration of a name wins, as in the runtime. */
  register(functionType: string, specs: readonly RegisteredSpec[]): void {
    let known = this.specs.get(functionType);
    if (!known) {
      known = new Map();
      this.specs.set(functionType, known);
    }
    for (const spec of specs) {
      const existing = known.get(spec.name);
      if (existing && existing.typename !== spec.typename) {
        throw new SdkError(
          SdkErrors.STATE_TYPE_MISMATCH,
          `state "${spec.name}" of ${functionType} is registered as ${existing.typename}, not ${spec.typename}`,
        );
      }
      if (!existing) known.set(spec.name, spec);
    }
  }

  registered(functionType: string): readonly RegisteredSpec[] {
    return [...(this.specs.get(functionType)?.values() ?? [])];
  }

  spec(functionType: string, name: string): RegisteredSpec | undefined {
    return this.specs.get(functionType)?.get(name);
  }

  /** The live value, or undefined when never written, deleted or expired at `now`. */
  read(address: Address, name: string, now: number): { typename: string; bytes: Uint8Array } | undefined {
    const stored = this.values.get(addressKey(address))?.get(name);
    if (!stored) return undefined;
    if (stored.expiresAt !== undefined && stored.expiresAt <= now) {
      this.values.get(addressKey(address))?.delete(name);
      return undefined;
    }
    return stored;
  }

  write(address: Address, name: string, typename: string, bytes: Uint8Array, now: number): void {
    const spec = this.spec(address.typename, name);
    const expiresAt = spec && spec.mode !== "none" ? now + spec.ttlMs : undefined;
    let values = this.values.get(addressKey(address));
    if (!values) {
      values = new Map();
      this.values.set(addressKey(address), values);
    }
    values.set(name, { typename, bytes, expiresAt });
  }

  delete(address: Address, name: string): void {
    this.values.get(addressKey(address))?.delete(name);
  }

  /** AFTER_INVOKE values live on for another TTL each time an invocation carries them. */
  touch(address: Address, now: number): void {
    for (const [name, stored] of this.values.get(addressKey(address)) ?? []) {
      const spec = this.spec(address.typename, name);
      if (spec?.mode === "after-invoke" && stored.expiresAt !== undefined && stored.expiresAt > now) {
        stored.expiresAt = now + spec.ttlMs;
      }
    }
  }
}
