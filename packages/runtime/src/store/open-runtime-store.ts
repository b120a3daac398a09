import { resolve } from "node:path";
import { ClusterMember } from "../cluster/cluster-member.js";
import type { Logger } from "../dispatch/logger.js";
import { StoreErrors } from "../errors/store-errors.js";
import { SwitchboardError } from "../errors/switchboard-error.js";
import type { StoreBackend } from "./contract.js";
import { isPostgresUrl, parseStoreUrl } from "./postgres/store-url.js";
import { SqliteBackend } from "./sqlite-backend.js";
import { type Durability, Store } from "./store.js";

/** Cluster settings of an instance on a PostgreSQL store (`switchboard run --store postgres://…`). */
export interface ClusterOptions {
  /** Unique per process run; default `<hostname>-<pid>-<random>`. */
  readonly instanceId?: string;
  /** How long a silent instance keeps its partitions; default 10 s. */
  readonly leaseMs?: number;
  /** Partition count of a new cluster (default 128); an existing cluster must match. */
  readonly partitions?: number;
  /** The host other instances reach this one at (its members row); default the machine's name. */
  readonly advertiseHost?: string;
}

export interface RuntimeStoreOptions {
  /** A `postgres://` URL (cluster mode); absent: the embedded SQLite store in `dataDir`. */
  readonly store?: string;
  readonly dataDir: string;
  readonly durability: Durability;
  readonly cluster?: ClusterOptions;
  /** Listener names to ports, shown in the cluster's members table. */
  readonly ports?: Readonly<Record<string, number>>;
  readonly logger: Logger;
}

/** The store a runtime runs on: the contract, plus what only one kind has. */
export interface RuntimeStore {
  readonly backend: StoreBackend;
  /** The embedded SQLite store; undefined in cluster mode. */
  readonly embedded: Store | undefined;
  /** This instance's membership of the cluster; undefined on the embedded store. */
  readonly cluster: ClusterMember | undefined;
  /** Where the store is, safe to print (a URL's password hidden). */
  readonly location: string;
  /** Commits what was submitted and releases the store (in a cluster: hands the partitions over). */
  close(): Promise<void>;
}

/**
 * Opens the embedded SQLite store under `dataDir` (the default), or joins the cluster on the
 * PostgreSQL store a `postgres://` URL names. Anything else given as a store is refused, so a
 * typo never silently falls back to a local file.
 */
export async function openRuntimeStore(options: RuntimeStoreOptions): Promise<RuntimeStore> {
  if (options.store === undefined) {
    if (options.cluster) {
      throw new SwitchboardError(
        StoreErrors.BAD_URL,
        "cluster settings (--instance-id, --lease, --advertise-host) need a PostgreSQL store: pass --store postgres://...",
      );
    }
    const dataDir = resolve(options.dataDir);
    const store = Store.open(dataDir, options.durability);
    return {
      backend: new SqliteBackend(store),
      embedded: store,
      cluster: undefined,
      location: dataDir,
      close: async () => store.close(),
    };
  }
  if (!isPostgresUrl(options.store)) {
    throw new SwitchboardError(
      StoreErrors.BAD_URL,
      "--store takes a postgres://user@host:port/database URL; the embedded store is chosen with --data-dir",
    );
  }
  const url = parseStoreUrl(options.store);
  const member = await ClusterMember.join({
    url: url.url,
    ...options.cluster,
    ...(options.ports ? { ports: options.ports } : {}),
    logger: options.logger,
  });
  return {
    backend: member.backend,
    embedded: undefined,
    cluster: member,
    location: url.redacted,
    close: () => member.leave(),
  };
}
