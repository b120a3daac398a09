import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TestContext } from "node:test";
import type { Logger } from "../../src/dispatch/logger.js";
import { Runtime } from "../../src/runtime.js";
import { tempDir } from "./temp-dir.js";

export const WEB_MODULE = new URL("./host/web-module.ts", import.meta.url).pathname;

/**
 * The spec line that lets a module's functions call loopback test servers: loopback is
 * refused unless outbound.allow names it.
 */
export const ALLOW_LOOPBACK = 'outbound: { allow: ["http://127.0.0.1:*"] }';

/** Lines of module YAML for the web-module fixture with one worker and the given extra spec lines. */
export function moduleDoc(spec: readonly string[] = [], module = WEB_MODULE): string {
  return [
    "kind: io.switchboard.functions.v1/module",
    "spec:",
    `  module: ${module}`,
    "  workers: 1",
    ...spec.map((line) => `  ${line}`),
  ].join("\n");
}

/** Starts a Runtime on `documents` (YAML) plus a web listener on a free port. */
export async function startHost(
  t: TestContext,
  documents: readonly string[],
  logger?: Logger,
  /** The web listener's spec, as YAML flow mapping content. */
  listener = "port: 0",
): Promise<{ runtime: Runtime; url: string; dir: string }> {
  const dir = tempDir(t);
  const file = join(dir, "module.yaml");
  writeFileSync(
    file,
    [...documents, `kind: io.switchboard.functions.v1/web\nspec: { ${listener} }\n`].join("\n---\n"),
  );
  const runtime = await Runtime.start({
    modules: [file],
    dataDir: join(dir, "data"),
    ...(logger ? { logger } : {}),
  });
  t.after(() => runtime.stop());
  const web = runtime.host.listeners[0];
  if (!web) throw new Error("no web listener started");
  return { runtime, url: `${web.url}/functions`, dir };
}

/** A logger that keeps every line it is given, as JSON text, for assertions. */
export function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const write = (level: string) => (object: object, message?: string) => {
    lines.push(
      JSON.stringify({ level, message, ...object }, (_key, value) =>
        value instanceof Error ? { message: value.message, stack: value.stack } : value,
      ),
    );
  };
  const logger: Logger & { lines: string[] } = {
    lines,
    info: write("info"),
    warn: write("warn"),
    error: write("error"),
    debug: write("debug"),
    child: () => logger,
  };
  return logger;
}
