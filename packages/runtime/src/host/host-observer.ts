/**
 * What the function host tells metrics as it serves. Defined here so the host does not
 * depend on ops; the ops Metrics implements it. Called on the hot path: implementations must
 * be cheap and must not throw.
 */
export interface HostObserver {
  /**
   * One answered web request. `route` is the web function's name, or UNKNOWN_WEB_ROUTE when
   * the path named no web function (never the requested name: labels stay bounded).
   */
  observeWebRequest(route: string, status: number, seconds: number): void;
}

/** The route of requests that reached no web function; not a valid function name, so it cannot clash. */
export const UNKNOWN_WEB_ROUTE = "(unknown)";
