/**
 * A cluster instance in a process of its own, for tests that kill or pause it:
 * `node --import tsx ownership-child.ts URL INSTANCE_ID LEASE_MS HEARTBEAT_MS`.
 * It prints one JSON line per ownership change ({type: "owned", partitions, reason}) and
 * answers stdin lines `write PARTITION EPOCH` with {type: "write", ok, code, believed}: a
 * transaction that writes one state row for PARTITION behind the fencing check for EPOCH.
 */
import { createInterface } from "node:readline";
import { assertEpochs } from "../../../src/cluster/fencing.js";
import { Ownership } from "../../../src/cluster/ownership.js";
import { SwitchboardError } from "../../../src/errors/index.js";
import { PostgresStore } from "../../../src/store/postgres/postgres-store.js";

const [url, instanceId, leaseMs, heartbeatMs] = process.argv.slice(2);
const print = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);

const store = await PostgresStore.open({ url: url as string, maxConnections: 3 });
let ownership: Ownership | undefined;
ownership = await Ownership.start(
  {
    pool: store.pool,
    partitionCount: store.partitionCount,
    instanceId: instanceId as string,
    leaseMs: Number(leaseMs),
    heartbeatMs: Number(heartbeatMs),
  },
  (change) =>
    print({ type: "owned", partitions: ownership?.owned() ?? change.gained, reason: change.reason }),
);
const started = ownership;
print({ type: "owned", partitions: started.owned(), reason: "started" });

for await (const line of createInterface({ input: process.stdin })) {
  const [command, partition, epoch] = line.trim().split(" ");
  if (command === "write") {
    const lease = { partition: Number(partition), epoch: Number(epoch) };
    const believed = started.epochOf(lease.partition) === lease.epoch;
    try {
      await store.transaction(async (transaction) => {
        await transaction.query(
          "INSERT INTO state (partition, fn, id, name, value) VALUES ($1, 'child/f', $2, 's', '\\x01')",
          [lease.partition, instanceId],
        );
        await assertEpochs(transaction, [lease]);
      });
      print({ type: "write", ok: true, believed });
    } catch (error) {
      print({
        type: "write",
        ok: false,
        believed,
        code: error instanceof SwitchboardError ? error.code : String(error),
      });
    }
  }
}
