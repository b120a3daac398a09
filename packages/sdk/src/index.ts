/** @switchboard/sdk: write StateFun-compatible stateful functions in TypeScript. */
export { PROTOCOL_CONTENT_TYPE } from "./protocol/index.js";
