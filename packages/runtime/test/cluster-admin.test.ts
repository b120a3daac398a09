/**
 * The admin API in a cluster: two runtimes in this process on one PostgreSQL database, as two
 * instances would run. /api/cluster agrees on both; actions on an address sent to the
 * instance that does not own it reach the owner; the cluster gauges show in /metrics.
 */
import assert from "node:assert/strict";
import { hostname } from "node:os";
import { join } from "node:path";
import { type TestContext, test } from "node:test";
import { type Logger, silentLogger } from "../src/dispatch/logger.js";
import { memberAdminUrl } from "../src/ops/owner-admin-url.js";
import { Runtime } from "../src/runtime.js";
import { metricValue, type Sample, scrape } from "./support/metrics-text.js";
import { writeModuleYaml } from "./support/module-yaml.js";
import { createTestDatabase } from "./support/postgres-database.js";
import { tempDir } from "./support/temp-dir.js";
import { until } from "./support/until.js";

/** How the waits in this file poll. */
const POLL = { timeoutMs: 20_000, intervalMs: 20 };

interface MemberJson {
  readonly instanceId: string;
  readonly self: boolean;
  readonly host: string;
  readonly adminUrl: string | null;
  readonly live: boolean;
  readonly ports: Record<string, number>;
  readonly partitionsOwned: number;
  readonly partitions?: number[];
  readonly queued: number;
  readonly oldestQueuedAgeMs: number | null;
}
interface PartitionJson {
  readonly partition: number;
  readonly owner: string | null;
  readonly epoch: number;
  readonly leaseExpiresAt: string;
  readonly leaseRemainingMs: number;
  readonly queued: number;
}
interface ClusterJson {
  readonly instanceId: string;
  readonly partitionCount: number;
  readonly members: MemberJson[];
  /** Only in /api/cluster, not in the overview's summary. */
  readonly partitions?: PartitionJson[];
  readonly unowned: unknown;
  readonly queued: number;
}
interface AddressJson {
  readonly owner?: string | null;
  readonly partition?: number;
  readonly inFlight: boolean | null;
  readonly suspension: {
    readonly address: string;
    readonly failures: number;
    readonly backlog: number;
    readonly lastError?: { readonly code: string };
  } | null;
  readonly backlog: unknown[];
}
interface ErrorJson {
  readonly error: { readonly code: string; readonly message: string };
}

const TOKEN = "cluster-admin-token";
const PARTITIONS = 8;
const FN = "test/broken";

/** test/* on a port nothing listens on: every batch fails at once and suspends its address. */
function moduleFile(t: TestContext): string {
  return writeModuleYaml(
    tempDir(t),
    [
      "kind: io.statefun.endpoints.v2/http",
      "spec:",
      "  functions: test/*",
      "  urlPathTemplate: http://127.0.0.1:1/{function.name}",
      "  transport:",
      "    timeouts: { call: 300ms, connect: 100ms, read: 100ms, write: 100ms }",
    ].join("\n"),
    ["kind: io.statefun.playground.v1/ingress", "spec: { port: 0 }"].join("\n"),
  );
}

async function call<Body>(
  url: string,
  options: { method?: string; token?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: Body; answeredBy: string | null }> {
  const response = await fetch(url, {
    method: options.method ?? "GET",
    headers: {
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
  });
  return {
    status: response.status,
    body: (await response.json()) as Body,
    answeredBy: response.headers.get("x-switchboard-answered-by"),
  };
}

/** Options one instance starts with beyond the shared ones. */
interface InstanceOptions {
  readonly advertiseHost?: string;
  readonly adminHost?: string;
  readonly logger?: Logger;
}

/** Two instances, "a" then "b", sharing a fresh database; stopped before it is dropped. */
async function twoInstances(
  t: TestContext,
  options: { a?: InstanceOptions; b?: InstanceOptions } = {},
): Promise<{ a: Runtime; b: Runtime }> {
  const runtimes: Runtime[] = [];
  t.after(async () => {
    for (const runtime of runtimes) await runtime.stop(500);
  });
  const { url } = await createTestDatabase("cluster_admin", t);
  const file = moduleFile(t);
  const start = async (instanceId: "a" | "b") => {
    const { advertiseHost, adminHost, logger } = options[instanceId] ?? {};
    const runtime = await Runtime.start({
      modules: [file],
      store: url,
      cluster: {
        instanceId,
        leaseMs: 3000,
        partitions: PARTITIONS,
        ...(advertiseHost !== undefined ? { advertiseHost } : {}),
      },
      adminPort: 0,
      ...(adminHost !== undefined ? { adminHost } : {}),
      ...(logger ? { logger } : {}),
      adminToken: TOKEN,
      drainTimeoutMs: 500,
    });
    runtimes.push(runtime);
    return runtime;
  };
  const a = await start("a");
  const b = await start("b");
  await until(
    "the partitions to be shared",
    () => a.cluster?.ownedCount() === PARTITIONS / 2 && b.cluster?.ownedCount() === PARTITIONS / 2,
    POLL,
  );
  return { a, b };
}

const admin = (runtime: Runtime) => runtime.ops.adminUrl as string;

/** An id of FN whose partition `owner` holds. */
function idOwnedBy(owner: Runtime, prefix: string): string {
  for (let index = 0; index < 1000; index++) {
    const id = `${prefix}${index}`;
    if (owner.cluster?.owns({ fn: FN, id })) return id;
  }
  throw new Error(`no id owned by ${owner.cluster?.instanceId}`);
}

/** Sends one message through `via`'s ingress and waits until `owner` has suspended its address. */
async function suspendOn(via: Runtime, owner: Runtime, id: string) {
  const response = await fetch(`${via.ingresses[0]?.url}/${FN}/${id}`, { method: "POST", body: "x" });
  assert.equal(response.status, 202);
  return until(
    `${FN}/${id} to be suspended on its owner`,
    () => owner.dispatcher.suspendedAddresses().find((entry) => entry.address === `${FN}/${id}`),
    POLL,
  );
}

test("/api/cluster answers the same members, owners, epochs and lag on every instance", async (t) => {
  const { a, b } = await twoInstances(t);
  const id = idOwnedBy(b, "lag");
  await suspendOn(a, b, id);
  const partition = b.cluster?.partitionOf({ fn: FN, id }) as number;

  const owners = (view: ClusterJson) => view.partitions?.map((row) => [row.partition, row.owner, row.epoch]);
  const [viewA, viewB] = await until(
    "both views to show the shared partitions and the queued message",
    async () => {
      const [fromA, fromB] = await Promise.all([
        call<ClusterJson>(`${admin(a)}/api/cluster`),
        call<ClusterJson>(`${admin(b)}/api/cluster`),
      ]);
      assert.equal(fromA.status, 200);
      assert.equal(fromB.status, 200);
      const settled = (view: ClusterJson) =>
        view.members.every((member) => member.partitionsOwned === PARTITIONS / 2 && member.ports.admin) &&
        view.partitions?.[partition]?.queued === 1;
      return settled(fromA.body) && settled(fromB.body) ? [fromA.body, fromB.body] : undefined;
    },
    POLL,
  );

  assert.equal(viewA.instanceId, "a");
  assert.equal(viewB.instanceId, "b");
  for (const view of [viewA, viewB]) {
    assert.equal(view.partitionCount, PARTITIONS);
    assert.deepEqual(
      view.members.map((member) => [member.instanceId, member.live, member.partitionsOwned]),
      [
        ["a", true, PARTITIONS / 2],
        ["b", true, PARTITIONS / 2],
      ],
    );
    const [memberA, memberB] = view.members;
    assert.equal(memberA?.ports.admin, a.ops.adminPort, "a registered its admin port");
    assert.equal(memberB?.ports.admin, b.ops.adminPort, "b registered its admin port");
    assert.deepEqual(
      memberB?.partitions,
      b.cluster?.ownership.owned().map((lease) => lease.partition),
    );
    assert.equal(memberB?.queued, 1, "the suspended address's message is b's lag");
    assert.ok((memberB?.oldestQueuedAgeMs ?? -1) >= 0);
    assert.equal(memberA?.queued, 0);
    assert.equal(memberA?.oldestQueuedAgeMs, null);
    const row = view.partitions?.[partition];
    assert.ok(row);
    assert.equal(row.owner, "b");
    assert.ok(row.leaseRemainingMs > 0 && row.leaseRemainingMs <= 3000);
    assert.ok(Date.parse(row.leaseExpiresAt) > 0);
    assert.deepEqual(view.unowned, { partitions: 0, queued: 0, oldestQueuedAgeMs: null });
    assert.equal(view.queued, 1);
  }
  assert.deepEqual(owners(viewA), owners(viewB), "both instances see the same owners and epochs");
  // The heartbeat rewrites the members row: the admin port registered after start stays in it.
  await a.cluster?.ownership.tick();
  const status = await b.cluster?.readStatus();
  assert.equal(status?.members.find((member) => member.instanceId === "a")?.ports.admin, a.ops.adminPort);
  assert.deepEqual(
    viewA.members.map((member) => member.self),
    [true, false],
  );

  // The live page's data: the overview carries the members, without per-partition rows.
  const overview = (await call<{ cluster: ClusterJson }>(`${admin(a)}/api/overview`)).body;
  assert.equal(overview.cluster.instanceId, "a");
  assert.deepEqual(
    overview.cluster.members.map((member) => [member.instanceId, member.partitionsOwned, member.queued]),
    [
      ["a", PARTITIONS / 2, 0],
      ["b", PARTITIONS / 2, 1],
    ],
  );
  assert.equal(overview.cluster.partitions, undefined);
});

test("retry and dead-letter sent to an instance that does not own the address act on its owner", async (t) => {
  const { a, b } = await twoInstances(t);
  const id = idOwnedBy(b, "act");
  const path = `${admin(a)}/api/addresses/test/broken/${id}`;
  await suspendOn(a, b, id);

  const read = await call<AddressJson>(path);
  assert.equal(read.status, 200);
  assert.equal(read.answeredBy, "b", "the owner answered the read");
  assert.equal(read.body.owner, "b");
  assert.equal(read.body.partition, b.cluster?.partitionOf({ fn: FN, id }));
  assert.equal(read.body.inFlight, false, "in flight comes from the owner's memory");
  assert.ok((read.body.suspension?.failures ?? 0) >= 1);
  assert.equal((await call<AddressJson>(`${admin(b)}/api/addresses/test/broken/${id}`)).body.owner, "b");

  // The token is checked here first, then carried to the owner.
  assert.equal((await call(`${path}/retry`, { method: "POST" })).status, 401);

  // A retry now: the owner tries again before the suspension's backoff would have.
  const before = await until(
    "a retry that is more than a second away",
    () => {
      const entry = b.dispatcher.suspendedAddresses().find((row) => row.address === `${FN}/${id}`);
      return entry && entry.failures >= 2 && entry.retryAt - Date.now() > 1000 ? entry : undefined;
    },
    POLL,
  );
  const retried = await call(`${path}/retry`, { method: "POST", token: TOKEN });
  assert.equal(retried.status, 202);
  assert.equal(retried.answeredBy, "b");
  assert.deepEqual(retried.body, { address: `${FN}/${id}`, retrying: true });
  await until(
    "the owner to retry",
    () =>
      (b.dispatcher.suspendedAddresses().find((row) => row.address === `${FN}/${id}`)?.failures ?? 0) >
      before.failures,
    POLL,
  );
  assert.ok(Date.now() < before.retryAt, "the retry came from the action, not the backoff");

  // A request already forwarded once is never forwarded again.
  const looped = await call<ErrorJson>(`${path}/retry`, {
    method: "POST",
    token: TOKEN,
    headers: { "x-switchboard-forwarded-by": "b" },
  });
  assert.equal(looped.status, 503);
  assert.equal(looped.body.error.code, "SB_ADMIN_OWNER_UNAVAILABLE");

  const moved = await until(
    "the dead-letter action to find no batch in flight",
    async () => {
      const answer = await call<{ moved?: number; error?: { code: string } }>(`${path}/dead-letter`, {
        method: "POST",
        token: TOKEN,
      });
      return answer.status === 409 && answer.body.error?.code === "SB_ADMIN_ADDRESS_BUSY"
        ? undefined
        : answer;
    },
    POLL,
  );
  assert.equal(moved.status, 200, JSON.stringify(moved.body));
  assert.equal(moved.answeredBy, "b");
  assert.equal(moved.body.moved, 1);
  assert.equal(
    b.dispatcher.suspendedAddresses().some((row) => row.address === `${FN}/${id}`),
    false,
    "the owner's suspension is lifted",
  );
  const letters = await call<{ deadLetters: unknown[] }>(`${admin(a)}/api/dead-letters?fn=${FN}&id=${id}`);
  assert.equal(letters.body.deadLetters.length, 1);
  const after = await call<AddressJson>(path);
  assert.equal(after.body.suspension, null);
  assert.deepEqual(after.body.backlog, []);
});

test("with the owner's admin server down, actions answer 503 and reads come from the store", async (t) => {
  const { a, b } = await twoInstances(t);
  const id = idOwnedBy(b, "down");
  const suspended = await suspendOn(a, b, id);
  const path = `${admin(a)}/api/addresses/test/broken/${id}`;
  await b.ops.stop();

  const retried = await call<ErrorJson>(`${path}/retry`, { method: "POST", token: TOKEN });
  assert.equal(retried.status, 503);
  assert.equal(retried.body.error.code, "SB_ADMIN_OWNER_UNAVAILABLE");
  assert.match(retried.body.error.message, /partition \d+, b at http:\/\/127\.0\.0\.1:\d+, did not answer/);

  const read = await call<AddressJson>(path);
  assert.equal(read.status, 200);
  assert.equal(read.answeredBy, null, "a answered itself");
  assert.equal(read.body.owner, "b");
  assert.equal(read.body.inFlight, null, "only the owner knows what is in flight");
  const { suspension } = read.body;
  assert.ok(suspension, "the suspension its owner stored");
  assert.equal(suspension.address, `${FN}/${id}`);
  assert.ok(suspension.failures >= 1);
  assert.equal(suspension.lastError?.code, suspended.lastError?.code);
  assert.equal(suspension.backlog, 1);
  assert.equal(read.body.backlog.length, 1);
});

test("an instance started with an advertise host is listed under it and forwarded to there", async (t) => {
  // a's admin server listens on 127.0.0.2 alone: dialled at this machine's name, as by default
  // (loopback, 127.0.0.1), it would not answer.
  const { a, b } = await twoInstances(t, { a: { advertiseHost: "127.0.0.2", adminHost: "127.0.0.2" } });
  assert.equal(admin(a), `http://127.0.0.2:${a.ops.adminPort}`);
  const members = await until(
    "both admin ports to be registered",
    async () => {
      const view = (await call<ClusterJson>(`${admin(b)}/api/cluster`)).body;
      return view.members.every((member) => member.ports.admin) ? view.members : undefined;
    },
    POLL,
  );
  assert.deepEqual(
    members.map((member) => [member.instanceId, member.host, member.adminUrl]),
    [
      ["a", "127.0.0.2", `http://127.0.0.2:${a.ops.adminPort}`],
      ["b", hostname(), `http://127.0.0.1:${b.ops.adminPort}`],
    ],
  );
  // The live page draws the overview's summary: it names the same URLs.
  const overview = (await call<{ cluster: { members: ClusterJson["members"] } }>(`${admin(b)}/api/overview`))
    .body;
  assert.deepEqual(
    overview.cluster.members.map((member) => member.adminUrl),
    members.map((member) => member.adminUrl),
  );

  const ownedByA = idOwnedBy(a, "advertised");
  await suspendOn(b, a, ownedByA);
  const read = await call<AddressJson>(`${admin(b)}/api/addresses/test/broken/${ownedByA}`);
  assert.equal(read.answeredBy, "a", "b reached a at its advertised host");
  assert.equal(read.body.inFlight, false);
  const retried = await call(`${admin(b)}/api/addresses/test/broken/${ownedByA}/retry`, {
    method: "POST",
    token: TOKEN,
  });
  assert.equal(retried.status, 202);
  assert.equal(retried.answeredBy, "a");

  // The other way: b's row carries this machine's name, so a dials b on loopback.
  const ownedByB = idOwnedBy(b, "default");
  await suspendOn(a, b, ownedByB);
  assert.equal((await call(`${admin(a)}/api/addresses/test/broken/${ownedByB}`)).answeredBy, "b");
});

test("an owner advertised where it cannot be reached: /api/cluster shows where, actions say what to set", async (t) => {
  const warnings: string[] = [];
  const logger: Logger = { ...silentLogger, warn: (_object, message) => warnings.push(message ?? "") };
  const { a, b } = await twoInstances(t, { a: { advertiseHost: "owner-a.invalid", logger } });
  assert.ok(
    warnings.some((message) =>
      message.includes("advertises owner-a.invalid but its admin server binds 127.0.0.1 only"),
    ),
    warnings.join("\n"),
  );
  const memberA = await until(
    "a's admin port to be registered",
    async () => {
      const view = (await call<ClusterJson>(`${admin(b)}/api/cluster`)).body;
      return view.members.find((member) => member.instanceId === "a" && member.ports.admin);
    },
    POLL,
  );
  assert.equal(memberA.adminUrl, `http://owner-a.invalid:${a.ops.adminPort}`);

  const id = idOwnedBy(a, "unreachable");
  await suspendOn(b, a, id);
  const retried = await call<ErrorJson>(`${admin(b)}/api/addresses/test/broken/${id}/retry`, {
    method: "POST",
    token: TOKEN,
  });
  assert.equal(retried.status, 503);
  assert.equal(retried.body.error.code, "SB_ADMIN_OWNER_UNAVAILABLE");
  assert.match(
    retried.body.error.message,
    /a at http:\/\/owner-a\.invalid:\d+, did not answer: ENOTFOUND; .*--admin-host.*--advertise-host/,
  );
  const read = await call<AddressJson>(`${admin(b)}/api/addresses/test/broken/${id}`);
  assert.equal(read.answeredBy, null, "the read is answered from the store");
  assert.equal(read.body.owner, "a");
});

test("a member's admin URL: loopback on this machine, its advertised host otherwise, IPv6 in brackets", () => {
  const ports = { admin: 8099 };
  assert.equal(memberAdminUrl({ host: "box1", ports }, "box1"), "http://127.0.0.1:8099");
  assert.equal(memberAdminUrl({ host: "box2", ports }, "box1"), "http://box2:8099");
  assert.equal(memberAdminUrl({ host: "10.0.0.5", ports }, "box1"), "http://10.0.0.5:8099");
  assert.equal(memberAdminUrl({ host: "2001:db8::5", ports }, "box1"), "http://[2001:db8::5]:8099");
  assert.equal(memberAdminUrl({ host: "box2", ports: {} }, "box1"), undefined, "no admin port registered");
  assert.equal(memberAdminUrl({ host: undefined, ports }, "box1"), undefined, "no members row");
});

test("the cluster gauges show in /metrics on every instance", async (t) => {
  const { a, b } = await twoInstances(t);
  const scraped = (runtime: Runtime) =>
    until(
      "the cluster figures to be read",
      async () => {
        const samples = await scrape(admin(runtime));
        const live = samples.find((sample) => sample.name === "switchboard_cluster_members_live");
        return live?.value === 2 ? samples : undefined;
      },
      POLL,
    );
  const value = (samples: readonly Sample[], name: string, labels?: Record<string, string>) =>
    metricValue(samples, name, labels);
  for (const runtime of [a, b]) {
    const samples = await scraped(runtime);
    assert.equal(value(samples, "switchboard_cluster_partitions_owned"), PARTITIONS / 2);
    assert.equal(value(samples, "switchboard_cluster_partitions_unowned"), 0);
    assert.equal(value(samples, "switchboard_cluster_owned_queued_messages"), 0);
    assert.equal(value(samples, "switchboard_cluster_owned_oldest_queued_seconds"), 0);
  }
  const samplesA = await scrape(admin(a));
  const samplesB = await scrape(admin(b));
  const changes = "switchboard_cluster_ownership_changes_total";
  assert.equal(value(samplesA, changes, { change: "gained", reason: "acquired" }), PARTITIONS);
  assert.equal(value(samplesA, changes, { change: "lost", reason: "rebalanced" }), PARTITIONS / 2);
  assert.equal(value(samplesB, changes, { change: "gained", reason: "acquired" }), PARTITIONS / 2);
});

test("on the embedded store /api/cluster answers 404 SB_ADMIN_NOT_CLUSTER and no cluster gauge shows", async (t) => {
  const dir = tempDir(t);
  const runtime = await Runtime.start({
    modules: [moduleFile(t)],
    dataDir: join(dir, "data"),
    adminPort: 0,
  });
  t.after(() => runtime.stop(500));
  const answer = await call<ErrorJson>(`${admin(runtime)}/api/cluster`);
  assert.equal(answer.status, 404);
  assert.equal(answer.body.error.code, "SB_ADMIN_NOT_CLUSTER");
  assert.equal((await call<{ cluster: unknown }>(`${admin(runtime)}/api/overview`)).body.cluster, null);
  const address = (await call<AddressJson>(`${admin(runtime)}/api/addresses/test/broken/x`)).body;
  assert.equal("owner" in address, false);
  assert.equal(address.inFlight, false);
  const samples = await scrape(admin(runtime));
  assert.deepEqual(
    samples.filter((sample) => sample.name.startsWith("switchboard_cluster_")),
    [],
  );
});
