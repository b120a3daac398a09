import type { Dispatcher } from "undici";

type LegacyHandler = Record<string, ((...args: unknown[]) => unknown) | undefined>;

/**
 * Passes every callback of undici's (legacy) handler interface on to the request's own
 * handler. Subclasses step in at the moments they need. A plain delegate (not
 * `Dispatcher.compose`) keeps the hot path free of header re-parsing.
 */
export class DelegatingHandler {
  protected readonly inner: LegacyHandler;

  constructor(handler: Dispatcher.DispatchHandler) {
    this.inner = handler as unknown as LegacyHandler;
  }

  /** This handler as undici's type (it implements the legacy callbacks). */
  asDispatchHandler(): Dispatcher.DispatchHandler {
    return this as unknown as Dispatcher.DispatchHandler;
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
    return this.inner.onUpgrade?.(...args);
  }
  onData(...args: unknown[]): unknown {
    return this.inner.onData?.(...args);
  }
  onComplete(...args: unknown[]): unknown {
    return this.inner.onComplete?.(...args);
  }
  onError(...args: unknown[]): unknown {
    return this.inner.onError?.(...args);
  }
}
