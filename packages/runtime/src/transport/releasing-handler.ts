import type { Dispatcher } from "undici";
import { DelegatingHandler } from "./delegating-handler.js";

/**
 * Calls `release` once when the request is over (completed, failed or upgraded). The release
 * runs in a microtask, after undici has finished with the response, so the connection is
 * never re-entered from inside its own parser callback.
 */
export class ReleasingHandler extends DelegatingHandler {
  private released = false;

  constructor(
    handler: Dispatcher.DispatchHandler,
    private readonly release: () => void,
  ) {
    super(handler);
  }

  override onUpgrade(...args: unknown[]): unknown {
    this.done();
    return super.onUpgrade(...args);
  }
  override onComplete(...args: unknown[]): unknown {
    const result = super.onComplete(...args);
    this.done();
    return result;
  }
  override onError(...args: unknown[]): unknown {
    const result = super.onError(...args);
    this.done();
    return result;
  }

  private done(): void {
    if (this.released) return;
    this.released = true;
    queueMicrotask(this.release);
  }
}
