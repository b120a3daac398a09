import { SwitchboardError } from "../errors/switchboard-error.js";
import { TransportErrors } from "../errors/transport-errors.js";

/** Builds the error a caller's `interpret` throws to reject a response. */
export function invalidResponse(message: string, details: Record<string, unknown> = {}): SwitchboardError {
  return new SwitchboardError(TransportErrors.INVALID_RESPONSE, message, details);
}

const TLS_CODES =
  /^(ERR_TLS|ERR_SSL|CERT_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_OSSL|HOSTNAME_MISMATCH)/;

/** Whether a Node/OpenSSL error code is a TLS failure (retrying cannot help). */
export function isTlsErrorCode(code: string | undefined): boolean {
  return code !== undefined && TLS_CODES.test(code);
}

/** Maps whatever undici or the socket threw to a catalogued transport error. */
export function toTransportError(error: unknown, url: string, attempt: number): SwitchboardError {
  if (error instanceof SwitchboardError) return error;
  const code = (error as { code?: string } | undefined)?.code ?? "";
  const cause = error instanceof Error ? error.message : String(error);
  const details = { url, attempt, cause: code || cause };
  if (code === "UND_ERR_CONNECT_TIMEOUT") {
    return new SwitchboardError(TransportErrors.CONNECT_TIMEOUT, `connecting to ${url} timed out`, details, {
      cause: error,
    });
  }
  if (code === "ECONNREFUSED" || code === "ENOENT") {
    return new SwitchboardError(
      TransportErrors.CONNECTION_REFUSED,
      `${url} refused the connection`,
      details,
      { cause: error },
    );
  }
  if (code === "ECONNRESET" || code === "EPIPE" || code === "UND_ERR_SOCKET" || code === "UND_ERR_CLOSED") {
    return new SwitchboardError(
      TransportErrors.CONNECTION_RESET,
      `the connection to ${url} was reset`,
      details,
      { cause: error },
    );
  }
  if (isTlsErrorCode(code)) {
    return new SwitchboardError(TransportErrors.TLS, `TLS with ${url} failed: ${cause}`, details, {
      cause: error,
    });
  }
  if (code === "UND_ERR_INVALID_ARG" || code === "ERR_INVALID_URL") {
    return new SwitchboardError(TransportErrors.BAD_URL, `bad request to ${url}: ${cause}`, details, {
      cause: error,
    });
  }
  if (code === "UND_ERR_RES_EXCEEDED_MAX_SIZE") {
    return new SwitchboardError(
      TransportErrors.PAYLOAD_TOO_LARGE,
      `the response from ${url} is too large`,
      details,
      { cause: error },
    );
  }
  return new SwitchboardError(TransportErrors.IO, `calling ${url} failed: ${cause}`, details, {
    cause: error,
  });
}
