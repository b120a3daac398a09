import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import { addressProblem } from "../config/address-names.js";
import { formatAddress } from "../dispatch/address.js";
import { AdminErrors } from "../errors/admin-errors.js";
import { isError, SwitchboardError } from "../errors/switchboard-error.js";
import { sendJson } from "../io/http-util.js";
import type { AddressRef, DeadLetter } from "../store/records.js";
import { addressView, messageView } from "./address-view.js";
import type { AdminContext } from "./admin-context.js";
import { ADMIN_PAGE_HTML } from "./admin-page.js";
import { clusterView } from "./cluster-view.js";
import { functionsView } from "./functions-view.js";
import { overview } from "./overview.js";
import { forwardToOwner } from "./owner-forward.js";

type Handler = (
  context: AdminContext,
  request: AdminRequest,
  response: ServerResponse,
) => Promise<void> | void;

export interface AdminRequest {
  readonly method: string;
  readonly segments: readonly string[];
  readonly query: URLSearchParams;
  /** The path and query as received (what a forward to the owner sends on). */
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
}

interface Route {
  /** Literal segments, `*` for one decoded parameter. */
  readonly pattern: readonly string[];
  readonly methods: Readonly<Record<string, Handler>>;
}

const MAX_LIST = 1000;

/** Every admin route; docs/operations.md lists them with examples. */
const ROUTES: readonly Route[] = [
  { pattern: [], methods: { GET: (_c, _r, res) => sendHtml(res, ADMIN_PAGE_HTML) } },
  { pattern: ["healthz"], methods: { GET: (_c, _r, res) => sendJson(res, 200, { status: "ok" }) } },
  { pattern: ["readyz"], methods: { GET: readiness } },
  { pattern: ["metrics"], methods: { GET: metrics } },
  {
    pattern: ["api", "overview"],
    methods: { GET: async (c, _r, res) => sendJson(res, 200, await overview(c)) },
  },
  { pattern: ["api", "functions"], methods: { GET: (c, _r, res) => sendJson(res, 200, functionsView(c)) } },
  {
    pattern: ["api", "suspended"],
    methods: { GET: (c, _r, res) => sendJson(res, 200, { suspended: c.dispatcher.suspendedAddresses() }) },
  },
  { pattern: ["api", "cluster"], methods: { GET: cluster } },
  { pattern: ["api", "addresses", "*", "*", "*"], methods: { GET: readAddress } },
  { pattern: ["api", "addresses", "*", "*", "*", "retry"], methods: { POST: retry } },
  { pattern: ["api", "addresses", "*", "*", "*", "dead-letter"], methods: { POST: deadLetter } },
  { pattern: ["api", "dead-letters"], methods: { GET: listDeadLetters } },
  { pattern: ["api", "dead-letters", "*"], methods: { GET: getDeadLetter, DELETE: dropDeadLetter } },
  { pattern: ["api", "dead-letters", "*", "reinject"], methods: { POST: reinjectDeadLetter } },
];

/** Finds the route for a request; throws SB_ADMIN_NOT_FOUND / SB_ADMIN_BAD_METHOD. */
export function route(request: AdminRequest): Handler {
  const route = ROUTES.find(
    (candidate) =>
      candidate.pattern.length === request.segments.length &&
      candidate.pattern.every((part, index) => part === "*" || part === request.segments[index]),
  );
  if (!route) {
    throw new SwitchboardError(AdminErrors.NOT_FOUND, `no admin route ${request.segments.join("/") || "/"}`);
  }
  const handler =
    route.methods[request.method] ?? (request.method === "HEAD" ? route.methods.GET : undefined);
  if (!handler) {
    throw new SwitchboardError(
      AdminErrors.BAD_METHOD,
      `use ${Object.keys(route.methods).join(" or ")} for /${request.segments.join("/")}`,
    );
  }
  return handler;
}

/** Splits and percent-decodes the path; `/api/addresses/ns%2Fsub/name/id` keeps the `/` in `ns/sub`. */
export function parseRequest(request: IncomingMessage): AdminRequest {
  const url = new URL(request.url ?? "/", "http://admin");
  const raw = url.pathname.split("/").filter((segment) => segment.length > 0);
  try {
    return {
      method: request.method ?? "GET",
      segments: raw.map(decodeURIComponent),
      query: url.searchParams,
      path: `${url.pathname}${url.search}`,
      headers: request.headers,
    };
  } catch {
    throw new SwitchboardError(
      AdminErrors.BAD_REQUEST,
      `the path ${url.pathname} is not valid percent-encoding`,
    );
  }
}

function readiness(context: AdminContext, _request: AdminRequest, response: ServerResponse): void {
  const checks = {
    store: context.store.isOpen,
    configuration: context.config !== undefined,
    running: context.ready(),
    // A Redis that went away makes this instance unable to serve cache calls: take it out of
    // rotation until it is back, rather than failing every function that uses the cache.
    cache: context.cache.reachable,
  };
  const ready = Object.values(checks).every(Boolean);
  sendJson(response, ready ? 200 : 503, { ready, checks });
}

async function metrics(
  context: AdminContext,
  _request: AdminRequest,
  response: ServerResponse,
): Promise<void> {
  const { contentType, body } = await context.metrics.exposition();
  response.writeHead(200, { "content-type": contentType, "content-length": Buffer.byteLength(body) });
  response.end(body);
}

async function cluster(
  context: AdminContext,
  _request: AdminRequest,
  response: ServerResponse,
): Promise<void> {
  const { cluster: member, clusterFigures } = context;
  if (!member || !clusterFigures) {
    throw new SwitchboardError(
      AdminErrors.NOT_CLUSTER,
      "this runtime is not in cluster mode: it runs on the embedded store (start it with --store postgres://... to join a cluster)",
    );
  }
  const reading = await clusterFigures.fresh();
  if (!reading) {
    throw new SwitchboardError(
      AdminErrors.OWNER_UNAVAILABLE,
      "the cluster's tables could not be read from the database; try again",
    );
  }
  sendJson(response, 200, clusterView(reading, member));
}

/**
 * An address, on any instance: the owner answers (its memory knows what is in flight and
 * suspended); when the owner cannot be reached, this instance answers from the store.
 */
async function readAddress(
  context: AdminContext,
  request: AdminRequest,
  response: ServerResponse,
): Promise<void> {
  const address = addressOf(context, request.segments, 2);
  try {
    if (await forwardToOwner(context, request, response, address)) return;
  } catch (error) {
    if (!isError(error, AdminErrors.OWNER_UNAVAILABLE)) throw error;
  }
  sendJson(response, 200, await addressView(context, address));
}

async function retry(context: AdminContext, request: AdminRequest, response: ServerResponse): Promise<void> {
  const address = addressOf(context, request.segments, 2);
  // A suspension lives in its owner's dispatcher: another instance's is acted on there.
  if (await forwardToOwner(context, request, response, address)) return;
  if (!context.dispatcher.retryNow(address)) throw notSuspended(address);
  sendJson(response, 202, { address: formatAddress(address), retrying: true });
}

async function deadLetter(
  context: AdminContext,
  request: AdminRequest,
  response: ServerResponse,
): Promise<void> {
  const address = addressOf(context, request.segments, 2);
  if (await forwardToOwner(context, request, response, address)) return;
  const { dispatcher } = context;
  if (!dispatcher.suspendedAddresses().some((entry) => entry.address === formatAddress(address))) {
    throw notSuspended(address);
  }
  const moved = await dispatcher.deadLetterBacklog(address);
  if (!moved) {
    throw new SwitchboardError(
      AdminErrors.ADDRESS_BUSY,
      `${formatAddress(address)} has a batch in flight; try again when it settles`,
      { address: formatAddress(address) },
    );
  }
  sendJson(response, 200, {
    address: formatAddress(address),
    moved: moved.length,
    deadLetters: moved.map((letter) => letter.seq),
  });
}

async function listDeadLetters(
  context: AdminContext,
  request: AdminRequest,
  response: ServerResponse,
): Promise<void> {
  const after = integerParam(request.query, "after", 0);
  const limit = Math.min(Math.max(1, integerParam(request.query, "limit", 100)), MAX_LIST);
  const fn = request.query.get("fn");
  const id = request.query.get("id");
  if ((fn === null) !== (id === null)) {
    throw new SwitchboardError(
      AdminErrors.BAD_REQUEST,
      "give both fn and id to filter by address, or neither",
    );
  }
  const address = fn !== null && id !== null ? { fn, id } : undefined;
  const { deadLetters } = context.store;
  const [listed, total] = await Promise.all([deadLetters.list(after, limit, address), deadLetters.count()]);
  const letters = listed.map(deadLetterView);
  sendJson(response, 200, {
    deadLetters: letters,
    total,
    next: letters.length === limit ? (letters.at(-1) as { id: number }).id : null,
  });
}

async function getDeadLetter(
  context: AdminContext,
  request: AdminRequest,
  response: ServerResponse,
): Promise<void> {
  const seq = deadLetterId(request.segments[2]);
  const letter = await context.store.deadLetters.get(seq);
  if (!letter) throw unknownDeadLetter(seq);
  sendJson(response, 200, deadLetterView(letter));
}

async function dropDeadLetter(
  context: AdminContext,
  request: AdminRequest,
  response: ServerResponse,
): Promise<void> {
  const seq = deadLetterId(request.segments[2]);
  const dropped = await context.store.deadLetters.drop(seq);
  if (!dropped) throw unknownDeadLetter(seq);
  sendJson(response, 200, { id: seq, dropped: true });
}

async function reinjectDeadLetter(
  context: AdminContext,
  request: AdminRequest,
  response: ServerResponse,
): Promise<void> {
  const seq = deadLetterId(request.segments[2]);
  const stored = await context.dispatcher.reinjectDeadLetter(seq);
  if (!stored) throw unknownDeadLetter(seq);
  sendJson(response, 202, {
    id: seq,
    reinjected: true,
    address: formatAddress(stored.target),
    seq: stored.seq,
  });
}

function deadLetterView(letter: DeadLetter): unknown {
  return {
    id: letter.seq,
    address: formatAddress(letter.message.target),
    message: messageView(letter.message),
    error: { code: letter.errorCode, message: letter.errorMessage },
    deadLetteredAt: letter.deadLetteredAt,
  };
}

function addressOf(context: AdminContext, segments: readonly string[], from: number): AddressRef {
  const [namespace, name, id] = segments.slice(from, from + 3) as [string, string, string];
  const problem = addressProblem(namespace, name, id);
  if (problem) throw new SwitchboardError(AdminErrors.BAD_REQUEST, problem);
  const fn = `${namespace}/${name}`;
  if (!context.router.tryResolve(fn)) {
    throw new SwitchboardError(AdminErrors.UNKNOWN_FUNCTION, `no endpoint serves function type ${fn}`, {
      fn,
    });
  }
  return { fn, id };
}

function deadLetterId(segment: string | undefined): number {
  const seq = Number(segment);
  if (!Number.isSafeInteger(seq) || seq <= 0) {
    throw new SwitchboardError(
      AdminErrors.BAD_REQUEST,
      `a dead-letter id is a positive integer, not ${segment}`,
    );
  }
  return seq;
}

function integerParam(query: URLSearchParams, name: string, fallback: number): number {
  const raw = query.get(name);
  if (raw === null) return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new SwitchboardError(AdminErrors.BAD_REQUEST, `${name} must be a non-negative integer, not ${raw}`);
  }
  return value;
}

function notSuspended(address: AddressRef): SwitchboardError {
  return new SwitchboardError(AdminErrors.NOT_SUSPENDED, `${formatAddress(address)} is not suspended`, {
    address: formatAddress(address),
  });
}

function unknownDeadLetter(seq: number): SwitchboardError {
  return new SwitchboardError(AdminErrors.UNKNOWN_DEAD_LETTER, `no dead letter ${seq}`, { id: seq });
}

function sendHtml(response: ServerResponse, html: string): void {
  response.writeHead(200, {
    "content-type": "text/html; charset=utf-8",
    "content-length": Buffer.byteLength(html),
    "cache-control": "no-store",
  });
  response.end(html);
}
