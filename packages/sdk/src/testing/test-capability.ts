/**
 * How a fake capability plugs into a WebTestHost: named host calls, answered in the test
 * process, exactly as the host's own table answers them (docs/host.md lists the calls). A fake
 * cache, for instance, is `{ hostCalls: { "cache.get": ..., "cache.set": ... } }`.
 */
export interface TestInvocation {
  readonly invocationId: string;
  /** The invocation's Data handles: put bytes to hand back a Data id, read the bytes behind one. */
  readonly data: {
    put(bytes: Uint8Array): number;
    read(id: number): Uint8Array;
  };
  /** Fails the test once the invocation is over, even when the function catches the error. */
  fail(error: Error): void;
}

/** One host call: its wire arguments in, its wire value out (errors reach the function as thrown). */
export type TestHostCall = (args: unknown, invocation: TestInvocation) => unknown;

export interface TestCapability {
  readonly hostCalls: Readonly<Record<string, TestHostCall>>;
  /** Told when an invocation is over, however it ended (e.g. to release what it still held). */
  ended?(invocationId: string): void;
}
