import { type Dispatcher, Pool } from "undici";

/**
 * Moments of one request's life that undici's `request()` does not expose but our timers
 * need: when the request got a connected socket (the connect phase is over), each body
 * chunk handed to the socket (write progress), and the end of the request (the read phase
 * starts).
 */
export interface RequestHooks {
  /** `abort` is undici's handle to abort this request from now on. */
  onConnect(abort: (error: Error) => void): void;
  onBodySent(): void;
  onRequestSent(): void;
}

export type HookedRequestOptions = Dispatcher.RequestOptions & { readonly hooks?: RequestHooks };

type LegacyHandler = Record<string, ((...args: unknown[]) => unknown) | undefined>;

/**
 * Passes every callback on to undici's own request handler and calls the hooks on the way.
 * A plain delegate (not `Dispatcher.compose`) keeps the hot path free of header re-parsing.
 */
class HookedHandler {
  constructor(
    private readonly inner: LegacyHandler,
    private readonly hooks: RequestHooks,
  ) {}

  onConnect(...args: unknown[]): unknown {
    const result = this.inner.onConnect?.(...args);
    this.hooks.onConnect(args[0] as (error: Error) => void);
    return result;
  }
  onBodySent(...args: unknown[]): unknown {
    this.hooks.onBodySent();
    return this.inner.onBodySent?.(...args);
  }
  onRequestSent(): unknown {
    this.hooks.onRequestSent();
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

/** An undici Pool whose requests may carry `hooks` (see RequestHooks). */
export class HookedPool extends Pool {
  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const hooks = (options as { hooks?: RequestHooks }).hooks;
    if (!hooks) return super.dispatch(options, handler);
    return super.dispatch(
      options,
      new HookedHandler(handler as unknown as LegacyHandler, hooks) as unknown as Dispatcher.DispatchHandler,
    );
  }
}
