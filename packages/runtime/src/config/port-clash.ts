import type { SourceLocation } from "./model.js";

/** One fixed port a component listens on, and where the YAML sets it. */
export interface ListenSite {
  readonly kind: string;
  readonly host: string;
  readonly port: number;
  readonly source: SourceLocation;
  readonly documentIndex: number;
}

const ANY_INTERFACE = new Set(["", "0.0.0.0", "::", "[::]"]);

/** The fixed port of a parsed spec that listens (`port` above 0), or undefined. */
export function listenSiteOf(spec: unknown): { host: string; port: number } | undefined {
  if (typeof spec !== "object" || spec === null) return undefined;
  const { port, host } = spec as { port?: unknown; host?: unknown };
  if (typeof port !== "number" || port <= 0) return undefined;
  return { port, host: typeof host === "string" ? host : "127.0.0.1" };
}

/**
 * Each site whose port an earlier site already takes: same port, and the same interface or
 * either of them on every interface. Port 0 (a free port) never clashes.
 */
export function portClashes(sites: readonly ListenSite[]): Array<{ site: ListenSite; first: ListenSite }> {
  const clashes: Array<{ site: ListenSite; first: ListenSite }> = [];
  sites.forEach((site, index) => {
    const first = sites
      .slice(0, index)
      .find(
        (earlier) =>
          earlier.port === site.port &&
          (earlier.host === site.host || ANY_INTERFACE.has(earlier.host) || ANY_INTERFACE.has(site.host)),
      );
    if (first) clashes.push({ site, first });
  });
  return clashes;
}
