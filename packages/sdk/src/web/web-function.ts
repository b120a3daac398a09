import { SdkError, SdkErrors } from "../errors.js";
import type { InputValue, WebInput, WebOutput, WebRequest } from "./web-types.js";

const kWebFunction = Symbol.for("switchboard.web-function");

export interface WebFunctionSpec<I extends WebInput<unknown>> {
  /** Served at `/functions/<name>`; letters, digits, `-`, `_` and `.`. */
  readonly name: string;
  /** How the body is decoded; default `"bytes"`. */
  readonly input?: I;
  readonly handler: (input: InputValue<I>, request: WebRequest) => WebOutput | Promise<WebOutput>;
}

export interface WebFunction<I extends WebInput<unknown> = WebInput<unknown>> extends WebFunctionSpec<I> {
  readonly [kWebFunction]: true;
}

const NAME = /^[A-Za-z0-9._-]+$/;

/**
 * Defines a web function. Export it from the module named in module YAML; the host serves
 * it at `/functions/<name>` (any method).
 */
export function webFunction<I extends WebInput<unknown> = "bytes">(spec: WebFunctionSpec<I>): WebFunction<I> {
  if (!NAME.test(spec.name)) {
    throw new SdkError(
      SdkErrors.INVALID_DEFINITION,
      `web function name "${spec.name}" may only hold letters, digits, "-", "_" and "."`,
    );
  }
  if (typeof spec.handler !== "function")
    throw new SdkError(SdkErrors.INVALID_DEFINITION, `web function ${spec.name} needs a handler`);
  return { ...spec, [kWebFunction]: true };
}

export function isWebFunction(value: unknown): value is WebFunction {
  return typeof value === "object" && value !== null && kWebFunction in value;
}
