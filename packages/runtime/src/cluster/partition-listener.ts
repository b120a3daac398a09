import pg from "pg";
import { toStoreError } from "../store/postgres/store-error.js";
import type { StoreUrl } from "../store/postgres/store-url.js";
import { channelPartition, MEMBERS_CHANNEL, notifiedMinSeq, partitionChannel } from "./partition-channel.js";

export interface PartitionListenerOptions {
  readonly url: StoreUrl;
  /**
   * A committed transaction added messages to `partition`, the lowest of them with seq
   * `minSeq`; undefined when the notification did not say (look from the start).
   */
  readonly onNotify: (partition: number, minSeq: number | undefined) => void;
  /**
   * The connection was lost and is back: notifications sent meanwhile are gone, so the owner
   * must look for messages it has not seen in `partitions` (every partition listened to).
   */
  readonly onCatchUp: (partitions: readonly number[]) => void;
  /**
   * Another instance joined, released partitions or left (MEMBERS_CHANNEL), with its id: the
   * moment to rebalance. Absent: the listener does not listen to that channel.
   */
  readonly onMembersChanged?: (instanceId: string) => void;
  /** Told why the connection was lost or a reconnection failed; default: ignored. */
  readonly onError?: (error: unknown) => void;
  /** First and longest wait between reconnection attempts; default 100 ms and 5 s. */
  readonly reconnectDelayMs?: { readonly min: number; readonly max: number };
  /** Shown in pg_stat_activity; default "switchboard-listener". */
  readonly applicationName?: string;
  /**
   * How often the connection is proved alive with a `SELECT 1` that must answer within the
   * same time; default 5 s. A network that silently stops carrying data closes nothing, so
   * without this a listener would wait for notifications forever.
   */
  readonly healthCheckMs?: number;
}

/**
 * LISTENs to the channels of the partitions this instance owns, on a connection of its own
 * (a LISTEN lives in one session, so it cannot share the pool). When the connection drops it
 * reconnects with growing delays, LISTENs again and asks for a catch-up.
 */
export class PartitionListener {
  private readonly partitions = new Set<number>();
  private client: pg.Client | undefined;
  private closed = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private healthTimer: NodeJS.Timeout | undefined;
  private checking = false;
  private delayMs: number;

  private constructor(private readonly options: PartitionListenerOptions) {
    this.delayMs = options.reconnectDelayMs?.min ?? 100;
  }

  /** Connects (failing with an SB_STORE_* error when it cannot) and listens to nothing yet. */
  static async start(options: PartitionListenerOptions): Promise<PartitionListener> {
    const listener = new PartitionListener(options);
    listener.client = await listener.connect();
    const every = options.healthCheckMs ?? 5000;
    listener.healthTimer = setInterval(() => listener.checkHealth(every), every);
    listener.healthTimer.unref();
    return listener;
  }

  /** True while a connection with every LISTEN in place is open. */
  get connected(): boolean {
    return this.client !== undefined;
  }

  /** Starts listening to `partitions` (while disconnected: from the reconnection on). */
  async listen(partitions: readonly number[]): Promise<void> {
    const added = partitions.filter((partition) => !this.partitions.has(partition));
    for (const partition of added) this.partitions.add(partition);
    await this.run(added.map((partition) => `LISTEN ${partitionChannel(partition)}`));
  }

  async unlisten(partitions: readonly number[]): Promise<void> {
    const removed = partitions.filter((partition) => this.partitions.delete(partition));
    await this.run(removed.map((partition) => `UNLISTEN ${partitionChannel(partition)}`));
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.healthTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => {});
  }

  private async run(statements: readonly string[]): Promise<void> {
    if (statements.length === 0 || !this.client) return;
    try {
      await this.client.query(statements.join("; "));
    } catch (error) {
      // A connection lost meanwhile reconnects and LISTENs to the whole set again.
      this.options.onError?.(error);
    }
  }

  private async checkHealth(timeoutMs: number): Promise<void> {
    const client = this.client;
    if (!client || this.checking) return;
    this.checking = true;
    try {
      await client.query({ text: "SELECT 1", query_timeout: timeoutMs } as pg.QueryConfig);
    } catch (error) {
      this.lost(client, error);
    } finally {
      this.checking = false;
    }
  }

  private async connect(): Promise<pg.Client> {
    const client = new pg.Client({
      connectionString: this.options.url.url,
      application_name: this.options.applicationName ?? "switchboard-listener",
      keepAlive: true,
      connectionTimeoutMillis: 5000,
    });
    client.on("error", (error) => this.lost(client, error));
    client.on("end", () => this.lost(client, undefined));
    client.on("notification", (message) => {
      if (message.channel === MEMBERS_CHANNEL) {
        this.options.onMembersChanged?.(message.payload ?? "");
        return;
      }
      const partition = channelPartition(message.channel);
      if (partition !== undefined && this.partitions.has(partition)) {
        this.options.onNotify(partition, notifiedMinSeq(message.payload));
      }
    });
    try {
      await client.connect();
      const channels = [...this.partitions].map((partition) => `LISTEN ${partitionChannel(partition)}`);
      if (this.options.onMembersChanged) channels.push(`LISTEN ${MEMBERS_CHANNEL}`);
      if (channels.length > 0) await client.query(channels.join("; "));
    } catch (error) {
      client.removeAllListeners("end");
      await client.end().catch(() => {});
      throw toStoreError(error, `PostgreSQL store ${this.options.url.redacted}`);
    }
    return client;
  }

  private lost(client: pg.Client, error: unknown): void {
    if (this.client !== client) return;
    this.client = undefined;
    if (error !== undefined) this.options.onError?.(error);
    client.end().catch(() => {});
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closed) return;
    this.retryTimer = setTimeout(async () => {
      try {
        const client = await this.connect();
        if (this.closed) {
          await client.end().catch(() => {});
          return;
        }
        this.client = client;
        this.delayMs = this.options.reconnectDelayMs?.min ?? 100;
        this.options.onCatchUp([...this.partitions].sort((a, b) => a - b));
      } catch (error) {
        this.options.onError?.(error);
        this.delayMs = Math.min(this.delayMs * 2, this.options.reconnectDelayMs?.max ?? 5000);
        this.scheduleReconnect();
      }
    }, this.delayMs);
  }
}
