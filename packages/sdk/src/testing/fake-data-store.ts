import { SdkError, SdkErrors } from "../errors.js";

/**
 * Bytes held "in the host" behind Data handles during a test invocation, by id. A test host
 * has no streams: everything is already in memory, and that is what a test wants to see.
 */
export class FakeDataStore {
  private readonly entries = new Map<number, Uint8Array>();
  private nextId = 1;

  put(bytes: Uint8Array): number {
    const id = this.nextId++;
    this.entries.set(id, bytes);
    return id;
  }

  read(id: number): Uint8Array {
    const bytes = this.entries.get(id);
    if (!bytes) throw new SdkError(SdkErrors.INVALID_VALUE, `Data ${id} is unknown to this invocation`);
    return bytes;
  }

  get size(): number {
    return this.entries.size;
  }
}
