/** The host's outbound HTTP engine: public surface. */
export { createTransport } from "./create-transport.js";
export { type EndpointUrl, parseEndpointUrl } from "./endpoint-url.js";
export { invalidResponse } from "./transport-error.js";
export type * from "./types.js";
