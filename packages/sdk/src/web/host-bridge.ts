import { SdkError, SdkErrors } from "../errors.js";

/**
 * How SDK code inside a host worker reaches the host: one asynchronous call per capability
 * use (see docs/host.md, "host calls"). The worker installs the bridge at start-up; the SDK
 * only ever sees this interface, so it has no dependency on the runtime.
 */
export interface HostBridge {
  call(op: string, args: unknown, transfer?: readonly ArrayBuffer[]): Promise<unknown>;
}

const kBridge = Symbol.for("switchboard.host-bridge");

/** Installed once by the host's worker before the user's module is loaded. */
export function installHostBridge(bridge: HostBridge): void {
  (globalThis as Record<symbol, unknown>)[kBridge] = bridge;
}

export function hostBridge(what: string): HostBridge {
  const bridge = (globalThis as Record<symbol, unknown>)[kBridge] as HostBridge | undefined;
  if (!bridge) {
    throw new SdkError(
      SdkErrors.NO_HOST,
      `${what} is a host capability: run the function inside Switchboard (switchboard run, or Runtime.start)`,
    );
  }
  return bridge;
}
