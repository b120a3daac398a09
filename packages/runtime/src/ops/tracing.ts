import { context, type Span, SpanKind, SpanStatusCode, type Tracer, trace } from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BasicTracerProvider, BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { SwitchboardError } from "../errors/switchboard-error.js";
import { formatTraceparent, parseTraceparent } from "./traceparent.js";

export interface TracingOptions {
  /** OTLP/HTTP traces endpoint, e.g. http://127.0.0.1:4318/v1/traces. */
  readonly otlpEndpoint: string;
  /** `service.name` of the exported spans; default "switchboard". */
  readonly serviceName?: string;
  /** Extra headers for the exporter's requests (a collector's API key). */
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * OpenTelemetry spans for ingress messages, remote invocations and outbound calls, exported
 * over OTLP/HTTP. Only exists when an endpoint is configured: with tracing off nothing in
 * this file is on any path (the runtime does not wrap anything), so it costs nothing.
 * The provider is private to the runtime, never registered globally, so two runtimes in
 * one process do not share spans; parents are passed explicitly, no context manager.
 */
export class Tracing {
  private constructor(
    private readonly provider: BasicTracerProvider,
    private readonly tracer: Tracer,
  ) {}

  static create(options: TracingOptions | undefined): Tracing | undefined {
    if (!options?.otlpEndpoint) return undefined;
    const exporter = new OTLPTraceExporter({
      url: options.otlpEndpoint,
      ...(options.headers ? { headers: { ...options.headers } } : {}),
    });
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ "service.name": options.serviceName ?? "switchboard" }),
      spanProcessors: [new BatchSpanProcessor(exporter)],
    });
    return new Tracing(provider, provider.getTracer("switchboard"));
  }

  /** A span whose parent is the given `traceparent` (a caller's), or a new trace. */
  start(
    name: string,
    kind: SpanKind,
    parent: string | string[] | undefined,
    attributes: Record<string, string | number>,
  ): { span: Span; traceparent: string } {
    const remote = parseTraceparent(parent);
    const parentContext = remote ? trace.setSpanContext(context.active(), remote) : context.active();
    const span = this.tracer.startSpan(name, { kind, attributes }, parentContext);
    return { span, traceparent: formatTraceparent(span.spanContext()) };
  }

  /** Ends a span as failed, with the error's stable code (never its details: they may hold URLs). */
  static fail(span: Span, error: unknown): void {
    const code = error instanceof SwitchboardError ? error.code : "SB_INTERNAL";
    span.setAttribute("switchboard.error.code", code);
    span.setStatus({ code: SpanStatusCode.ERROR, message: code });
    span.end();
  }

  async flush(): Promise<void> {
    await this.provider.forceFlush();
  }

  /** Exports what is buffered and stops. */
  async shutdown(): Promise<void> {
    await this.provider.shutdown();
  }
}

export { SpanKind };
