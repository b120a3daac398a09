/**
 * Run as a child process: `crash-after-writing.ts <data-dir> <messages>` accepts that many
 * messages (durably, as a node does) and dies by SIGKILL, leaving its store as a crashed node
 * leaves it: the WAL not checkpointed, the lock files behind.
 */
import { SqliteBackend } from "../../src/store/sqlite-backend.js";
import { Store } from "../../src/store/store.js";

const [dataDir, count] = process.argv.slice(2);
const backend = new SqliteBackend(Store.open(dataDir as string, "full"));
for (let n = 0; n < Number(count); n++) {
  await backend.messages.accept(
    {
      target: { fn: "crash/f", id: `k${n % 7}` },
      argument: { typename: "t", hasValue: true, value: new Uint8Array([n % 256]) },
    },
    n,
  );
}
process.kill(process.pid, "SIGKILL");
