/**
 * What a package's package.json says once packed: the workspace manifest minus what only
 * makes sense inside this repository.
 *
 * - The `development` export condition points at TypeScript sources, which are not shipped;
 *   a user whose tools set that condition (Vite does) would resolve to files that are not there.
 * - devDependencies are this repository's business, not an installer's.
 * - scripts hold the pack hooks (`../../scripts/...`), which exist only in this checkout.
 */

type Exports = string | { [condition: string]: Exports };

export interface Manifest {
  name: string;
  version: string;
  files?: string[];
  exports?: Exports;
  devDependencies?: Record<string, string>;
  scripts?: Record<string, string>;
  repository?: { type?: string; url?: string; directory?: string } | string;
  [field: string]: unknown;
}

/** The exports map without the `development` condition, at any depth. */
export function withoutDevelopmentCondition(exports: Exports): Exports {
  if (typeof exports === "string") return exports;
  return Object.fromEntries(
    Object.entries(exports)
      .filter(([condition]) => condition !== "development")
      .map(([key, value]) => [key, withoutDevelopmentCondition(value)]),
  );
}

export function publishedManifest(manifest: Manifest): Manifest {
  const { devDependencies: _dev, scripts: _scripts, ...published } = manifest;
  if (published.exports) published.exports = withoutDevelopmentCondition(published.exports);
  return published;
}

/**
 * The repository URL is a placeholder under the reserved `.invalid` domain (RFC 2606) until
 * the project has a public home: npm accepts it without a warning, and no one is sent to
 * somebody else's repository. A real publish refuses while it stands.
 */
export function hasPlaceholderRepository(manifest: Manifest): boolean {
  const url = typeof manifest.repository === "string" ? manifest.repository : manifest.repository?.url;
  return !url || /^(?:git\+)?https?:\/\/[^/]*\.invalid\//.test(url);
}
