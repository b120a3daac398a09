import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { SdkError, SdkErrors } from "../errors.js";
import { callLive } from "./live-http.js";
import { type CallAnswer, describeCall, type OutboundCall, SECRET_HEADERS } from "./outbound-call.js";

export type CassetteMode = "replay" | "record";

export interface CassetteOptions {
  /** The JSON file; created (or overwritten) in record mode, read in replay mode. */
  readonly path: string;
  /** Default: "record" when SWITCHBOARD_RECORD is 1/true/yes, else "replay". */
  readonly mode?: CassetteMode;
  /** Request headers that must also be equal for a recorded call to answer (default: none). */
  readonly matchHeaders?: readonly string[];
  /** Extra header names whose values are never written to the file (authorization, cookies, API keys always are redacted). */
  readonly redactHeaders?: readonly string[];
  /** Deadline of each real call while recording; default 30 s. */
  readonly timeoutMs?: number;
}

/** A body in the file: JSON when it is JSON (readable diffs), else text, else base64. */
type StoredBody = { readonly json: unknown } | { readonly text: string } | { readonly base64: string };

interface StoredInteraction {
  readonly request: {
    readonly method: string;
    readonly url: string;
    readonly headers: Record<string, string[]>;
    readonly body?: StoredBody;
  };
  readonly response: {
    readonly status: number;
    readonly headers: Array<[string, string]>;
    readonly body?: StoredBody;
  };
}

interface CassetteFile {
  readonly version: 1;
  readonly interactions: StoredInteraction[];
}

const REDACTED = "[redacted]";
const strictDecoder = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

/** Whether the environment asks to record (SWITCHBOARD_RECORD=1). */
export function recordRequested(environment: NodeJS.ProcessEnv = process.env): boolean {
  return /^(1|true|yes)$/i.test(environment.SWITCHBOARD_RECORD ?? "");
}

/**
 * Real upstream traffic recorded once and replayed afterwards with no network. Recording
 * starts the file afresh and writes it after every call; replay answers each call with the
 * first unused recorded interaction that matches method, URL, body (and `matchHeaders`),
 * and once those are used up, with the last one that matched.
 */
export class Cassette {
  readonly mode: CassetteMode;
  private readonly interactions: StoredInteraction[];
  private readonly used = new Set<number>();
  private readonly matchHeaders: string[];
  private readonly redact: Set<string>;

  constructor(private readonly options: CassetteOptions) {
    this.mode = options.mode ?? (recordRequested() ? "record" : "replay");
    this.matchHeaders = (options.matchHeaders ?? []).map((name) => name.toLowerCase());
    this.redact = new Set([
      ...SECRET_HEADERS,
      ...(options.redactHeaders ?? []).map((name) => name.toLowerCase()),
    ]);
    this.interactions = this.mode === "record" ? [] : load(options.path);
  }

  get path(): string {
    return this.options.path;
  }

  /** How many interactions the cassette holds now. */
  get size(): number {
    return this.interactions.length;
  }

  /** Redacts these header names too (the host adds upstream secret headers through here). */
  hide(names: Iterable<string>): void {
    for (const name of names) this.redact.add(name.toLowerCase());
  }

  async answer(call: OutboundCall): Promise<CallAnswer> {
    return this.mode === "record" ? this.record(call) : this.replay(call);
  }

  private async record(call: OutboundCall): Promise<CallAnswer> {
    const answer = await callLive(call, this.options.timeoutMs ?? 30_000);
    const headers: Record<string, string[]> = {};
    for (const [name, values] of Object.entries(call.headers))
      headers[name] = this.redact.has(name) ? values.map(() => REDACTED) : [...values];
    const requestBody = storeBody(call.body, call.header("content-type"));
    const responseBody = storeBody(
      answer.body,
      answer.headers.find(([name]) => name === "content-type")?.[1],
    );
    this.interactions.push({
      request: { method: call.method, url: call.url, headers, ...(requestBody ? { body: requestBody } : {}) },
      response: {
        status: answer.status,
        headers: answer.headers.map(([name, value]) => [name, this.redact.has(name) ? REDACTED : value]),
        ...(responseBody ? { body: responseBody } : {}),
      },
    });
    mkdirSync(dirname(this.options.path), { recursive: true });
    const file: CassetteFile = { version: 1, interactions: this.interactions };
    writeFileSync(this.options.path, `${JSON.stringify(file, null, 2)}\n`);
    return answer;
  }

  private replay(call: OutboundCall): CallAnswer {
    let lastMatch: number | undefined;
    for (const [index, interaction] of this.interactions.entries()) {
      if (!this.differences(interaction, call).length) {
        lastMatch = index;
        if (!this.used.has(index)) break;
      }
    }
    if (lastMatch === undefined) throw this.miss(call);
    this.used.add(lastMatch);
    const { response } = this.interactions[lastMatch] as StoredInteraction;
    return {
      status: response.status,
      headers: response.headers.map(([name, value]) => [name, value]),
      body: loadBody(response.body),
    };
  }

  private differences(interaction: StoredInteraction, call: OutboundCall): string[] {
    const { request } = interaction;
    const out: string[] = [];
    if (request.method.toUpperCase() !== call.method.toUpperCase()) out.push(`method ${request.method}`);
    if (request.url !== call.url) out.push(`url ${request.url}`);
    if (!sameBody(request.body, call.body)) out.push(`body ${describeStored(request.body)}`);
    for (const name of this.matchHeaders) {
      if (!isDeepStrictEqual(request.headers[name] ?? [], call.headers[name] ?? []))
        out.push(`header ${name}: ${(request.headers[name] ?? []).join(", ") || "absent"}`);
    }
    return out;
  }

  private miss(call: OutboundCall): SdkError {
    const lines = [
      `cassette ${this.options.path} has no recorded answer for\n${describeCall(call, this.redact)}`,
    ];
    let closest: { index: number; differences: string[] } | undefined;
    for (const [index, interaction] of this.interactions.entries()) {
      const differences = this.differences(interaction, call);
      if (!closest || differences.length < closest.differences.length) closest = { index, differences };
    }
    if (closest) {
      lines.push(`closest recorded call: #${closest.index + 1}, which differs in`);
      for (const difference of closest.differences) lines.push(`  ${difference}`);
    } else lines.push("the cassette is empty");
    lines.push("re-record it with SWITCHBOARD_RECORD=1 if the calls changed on purpose");
    return new SdkError(SdkErrors.REPLAY_MISS, lines.join("\n"));
  }
}

function load(path: string): StoredInteraction[] {
  if (!existsSync(path)) {
    throw new SdkError(
      SdkErrors.REPLAY_MISS,
      `cassette ${path} does not exist: run the test once with SWITCHBOARD_RECORD=1 (against the real upstream) to record it`,
    );
  }
  let file: CassetteFile;
  try {
    file = JSON.parse(readFileSync(path, "utf8")) as CassetteFile;
  } catch (error) {
    throw new SdkError(SdkErrors.REPLAY_MISS, `cassette ${path} is not JSON: ${(error as Error).message}`);
  }
  if (file?.version !== 1 || !Array.isArray(file.interactions)) {
    throw new SdkError(SdkErrors.REPLAY_MISS, `cassette ${path} is not a version 1 cassette`);
  }
  return file.interactions;
}

function storeBody(bytes: Uint8Array, contentType: string | undefined): StoredBody | undefined {
  if (bytes.length === 0) return undefined;
  let text: string;
  try {
    text = strictDecoder.decode(bytes);
  } catch {
    return { base64: Buffer.from(bytes).toString("base64") };
  }
  if (contentType !== undefined && /json/i.test(contentType)) {
    try {
      const json: unknown = JSON.parse(text);
      // Only when it prints back byte for byte, so replay sends exactly what was recorded.
      if (JSON.stringify(json) === text) return { json };
    } catch {}
  }
  return { text };
}

function loadBody(body: StoredBody | undefined): Uint8Array {
  if (body === undefined) return new Uint8Array(0);
  if ("json" in body) return encoder.encode(JSON.stringify(body.json));
  if ("text" in body) return encoder.encode(body.text);
  return new Uint8Array(Buffer.from(body.base64, "base64"));
}

function sameBody(stored: StoredBody | undefined, bytes: Uint8Array): boolean {
  return Buffer.from(loadBody(stored)).equals(bytes);
}

function describeStored(body: StoredBody | undefined): string {
  const text = Buffer.from(loadBody(body)).toString("utf8");
  return text.length > 200 ? `${JSON.stringify(text.slice(0, 200))}…` : JSON.stringify(text) || '""';
}
