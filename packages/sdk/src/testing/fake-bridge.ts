import { AsyncLocalStorage } from "node:async_hooks";
import { SdkError, SdkErrors } from "../errors.js";
import { type HostBridge, installHostBridge } from "../web/host-bridge.js";

const kBridge = Symbol.for("switchboard.host-bridge");
const current = new AsyncLocalStorage<HostBridge>();
let installed = false;

/**
 * Runs `body` with `bridge` as the host bridge of every SDK call it makes. The bridge the SDK
 * sees is one router, installed once per process, that sends each call to the bridge of the
 * invocation it belongs to, so tests (and invocations) running at once never share a host.
 */
export function withTestBridge<T>(bridge: HostBridge, body: () => Promise<T>): Promise<T> {
  if (!installed) {
    const previous = (globalThis as Record<symbol, unknown>)[kBridge] as HostBridge | undefined;
    installHostBridge({
      call(op, args, transfer) {
        const active = current.getStore();
        if (active) return active.call(op, args, transfer);
        if (previous) return previous.call(op, args, transfer);
        return Promise.reject(
          new SdkError(
            SdkErrors.NO_HOST,
            `${op} was called outside an invocation: in tests, run the function through WebTestHost`,
          ),
        );
      },
    });
    installed = true;
  }
  return current.run(bridge, body);
}
