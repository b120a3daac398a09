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

/** The handler to dispatch: `handler` itself, or wrapped to call the request's hooks. */
export function hooked(
  options: Dispatcher.DispatchOptions,
  handler: Dispatcher.DispatchHandler,
): Dispatcher.DispatchHandler {
  const hooks = (options as { hooks?: RequestHooks }).hooks;
  if (!hooks) return handler;
  return new HookedHandler(
    handler as unknown as LegacyHandler,
    hooks,
  ) as unknown as Dispatcher.DispatchHandler;
}

/**
 * An undici Pool whose requests may carry `hooks` (see RequestHooks). Used for HTTP/2
 * origins, where one connection multiplexes; HTTP/1.1 origins use ClientPool.
 */
export class HookedPool extends Pool {
  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    return super.dispatch(options, hooked(options, handler));
  }
}
