import { redactUrls } from "../dispatch/logger.js";
import type { BufferedResponse, Transport, TransportRequest, TransportResponse } from "../transport/types.js";
import { SpanKind, Tracing } from "./tracing.js";

/**
 * The host transport with a client span per outbound call (remote invocations, webhook
 * egress, and whatever else goes through it, such as host functions' outbound HTTP).
 * A `traceparent` already on the request is the parent; the one sent is the client span's.
 */
export class TracedTransport implements Transport {
  constructor(
    private readonly inner: Transport,
    private readonly tracing: Tracing,
  ) {}

  async request(request: TransportRequest): Promise<TransportResponse> {
    const { span, traced } = this.begin(request);
    try {
      const response = await this.inner.request(traced);
      span.setAttribute("http.response.status_code", response.status);
      span.setAttribute("switchboard.attempts", response.attempts);
      // Ends at response headers: the body is the caller's to stream.
      span.end();
      return response;
    } catch (error) {
      Tracing.fail(span, error);
      throw error;
    }
  }

  async exchange<T>(request: TransportRequest, interpret: (response: BufferedResponse) => T): Promise<T> {
    const { span, traced } = this.begin(request);
    try {
      const result = await this.inner.exchange(traced, (response) => {
        span.setAttribute("http.response.status_code", response.status);
        span.setAttribute("switchboard.attempts", response.attempts);
        return interpret(response);
      });
      span.end();
      return result;
    } catch (error) {
      Tracing.fail(span, error);
      throw error;
    }
  }

  stats(): ReturnType<Transport["stats"]> {
    return this.inner.stats();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private begin(request: TransportRequest) {
    const method = request.method ?? "GET";
    const parent = request.headers?.traceparent;
    const { span, traceparent } = this.tracing.start(
      `HTTP ${method}`,
      SpanKind.CLIENT,
      typeof parent === "string" ? parent : undefined,
      { "http.request.method": method, "url.full": redactUrls(request.url) },
    );
    return { span, traced: { ...request, headers: { ...request.headers, traceparent } } };
  }
}
