import type { Dispatcher } from "undici";

type LegacyHandler = Record<string, ((...args: unknown[]) => unknown) | undefined>;

/**
 * Passes every callback on to the request's own handler and calls `release` once when the
 * request is over (completed, failed or aborted). The release runs in a microtask, after
 * undici has finished with the response, so the connection is never re-entered from inside
 * its own parser callback.
 */
export class ReleasingHandler {
  private readonly inner: LegacyHandler;
  private released = false;

  constructor(
    handler: Dispatcher.DispatchHandler,
    private readonly release: () => void,
  ) {
    this.inner = handler as unknown as LegacyHandler;
  }

  onConnect(...args: unknown[]): unknown {
    return this.inner.onConnect?.(...args);
  }
  onBodySent(...args: unknown[]): unknown {
    return this.inner.onBodySent?.(...args);
  }
  onRequestSent(): unknown {
    return this.inner.onRequestSent?.();
  }
  onResponseStarted(): unknown {
    return this.inner.onResponseStarted?.();
  }
  onHeaders(...args: unknown[]): unknown {
    return this.inner.onHeaders?.(...args);
  }
  onUpgrade(...args: unknown[]): unknown {
    this.done();
    return this.inner.onUpgrade?.(...args);
  }
  onData(...args: unknown[]): unknown {
    return this.inner.onData?.(...args);
  }
  onComplete(...args: unknown[]): unknown {
    const result = this.inner.onComplete?.(...args);
    this.done();
    return result;
  }
  onError(...args: unknown[]): unknown {
    const result = this.inner.onError?.(...args);
    this.done();
    return result;
  }

  private done(): void {
    if (this.released) return;
    this.released = true;
    queueMicrotask(this.release);
  }
}
