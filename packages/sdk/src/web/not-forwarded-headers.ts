/**
 * Request headers the host never forwards on an outbound call: hop-by-hop headers
 * (RFC 9110 7.6.1) plus the ones its transport sets itself. One list, so the test host's
 * live calls and the real host's send the same headers.
 */
export const NOT_FORWARDED_HEADERS: ReadonlySet<string> = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
  "host",
  "content-length",
]);
