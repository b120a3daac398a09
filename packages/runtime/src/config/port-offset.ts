import { CliErrors } from "../errors/cli-errors.js";
import { ConfigDiagnosticCodes } from "../errors/config-errors.js";
import { SwitchboardError } from "../errors/switchboard-error.js";
import type { LoadResult } from "./load-modules.js";
import type { ConfigDiagnostic, LoadedComponent } from "./model.js";

/**
 * `--port-offset N`: several instances on one machine each add their own N to every port
 * they listen on. Applies to every component whose spec has a listen port (ingresses,
 * egresses, web listeners: the `port` of listen-spec.ts); port 0 (any free port) stays 0. A
 * port pushed past 65535 is a configuration error at the component's file:line:col.
 */
export function offsetListenerPorts(result: LoadResult, offset: number): LoadResult {
  if (offset === 0 || !result.ok) return result;
  const errors: ConfigDiagnostic[] = [];
  const components = result.config.components.map((component): LoadedComponent => {
    const port = listenPort(component.spec);
    if (port === undefined || port === 0) return component;
    const moved = port + offset;
    if (moved > 65535) {
      errors.push({
        severity: "error",
        code: ConfigDiagnosticCodes.PORT_OUT_OF_RANGE,
        message: `port ${port} plus --port-offset ${offset} is ${moved}, above 65535`,
        source: component.source,
        path: "spec.port",
      });
      return component;
    }
    return { ...component, spec: { ...(component.spec as object), port: moved } };
  });
  if (errors.length > 0) return { ok: false, errors, warnings: result.warnings };
  return { ...result, config: { ...result.config, components } };
}

/** The admin port with the offset applied (0 stays 0), or SB_CLI_BAD_PORT_OFFSET past 65535. */
export function offsetPort(port: number, offset: number, what: string): number {
  if (port === 0) return 0;
  const moved = port + offset;
  if (moved > 65535) {
    throw new SwitchboardError(
      CliErrors.BAD_PORT_OFFSET,
      `${what} ${port} plus --port-offset ${offset} is ${moved}, above 65535`,
      { port, offset },
    );
  }
  return moved;
}

/** `--port-offset` as a whole number 0..65535, or SB_CLI_BAD_PORT_OFFSET. */
export function parsePortOffset(raw: string | undefined): number {
  if (raw === undefined) return 0;
  const offset = raw.trim() === "" ? Number.NaN : Number(raw);
  if (!Number.isInteger(offset) || offset < 0 || offset > 65535) {
    throw new SwitchboardError(
      CliErrors.BAD_PORT_OFFSET,
      `--port-offset must be a whole number from 0 to 65535, not ${raw}`,
      {
        offset: raw,
      },
    );
  }
  return offset;
}

function listenPort(spec: unknown): number | undefined {
  if (typeof spec !== "object" || spec === null) return undefined;
  const port = (spec as { port?: unknown }).port;
  return typeof port === "number" ? port : undefined;
}
