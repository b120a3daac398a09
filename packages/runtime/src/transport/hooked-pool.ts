import { type Dispatcher, Pool } from "undici";
import { DelegatingHandler } from "./delegating-handler.js";

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

/** Calls the request's hooks on the way through to its own handler. */
class HookedHandler extends DelegatingHandler {
  constructor(
    handler: Dispatcher.DispatchHandler,
    private readonly hooks: RequestHooks,
  ) {
    super(handler);
  }

  override onConnect(...args: unknown[]): unknown {
    const result = super.onConnect(...args);
    this.hooks.onConnect(args[0] as (error: Error) => void);
    return result;
  }
  override onBodySent(...args: unknown[]): unknown {
    this.hooks.onBodySent();
    return super.onBodySent(...args);
  }
  override onRequestSent(): unknown {
    this.hooks.onRequestSent();
    return super.onRequestSent();
  }
}

/** The handler to dispatch: `handler` itself, or wrapped to call the request's hooks. */
export function hooked(
  options: Dispatcher.DispatchOptions,
  handler: Dispatcher.DispatchHandler,
): Dispatcher.DispatchHandler {
  const hooks = (options as { hooks?: RequestHooks }).hooks;
  if (!hooks) return handler;
  return new HookedHandler(handler, hooks).asDispatchHandler();
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
