import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { BacklogScanner } from "../src/dispatch/backlog-scanner.js";
import type { AddressRow } from "../src/store/records.js";

/** A stored backlog of `count` rows, one address each, read a page at a time after `delayMs`. */
function backlog(count: number, delayMs: number) {
  const rows: AddressRow[] = Array.from({ length: count }, (_, index) => ({
    seq: index + 1,
    fn: "test/f",
    id: `a${index + 1}`,
  }));
  return {
    rows,
    page: async (afterSeq: number, limit: number) => {
      await sleep(delayMs);
      const page = rows.filter((row) => row.seq > afterSeq).slice(0, limit);
      return { rows: page, scannedTo: page.at(-1)?.seq ?? afterSeq };
    },
  };
}

test("wake-ups from other instances arriving faster than pages are read never stall the scan", async () => {
  const { page } = backlog(2000, 3);
  const considered = new Set<number>();
  const scanner = new BacklogScanner({
    page,
    consider: (row) => {
      considered.add(row.seq);
      return "taken";
    },
    hasRoom: () => true,
    onError: (error) => assert.fail(String(error)),
    pageSize: 100,
  });
  scanner.rewind();
  // Another instance stores messages all the time: a wake-up every millisecond, each
  // asking to look back at a recent seq.
  const storm = setInterval(() => scanner.lookBack(1990), 1);
  try {
    for (let i = 0; i < 500 && considered.size < 2000; i++) await sleep(10);
  } finally {
    clearInterval(storm);
    scanner.stop();
  }
  assert.equal(considered.size, 2000, "every stored row was considered despite the wake-ups");
});

test("a message stored while a page is read is considered, even when that page did not see it", async () => {
  const { rows, page } = backlog(10, 20);
  const considered: number[] = [];
  const scanner = new BacklogScanner({
    page,
    consider: (row) => {
      considered.push(row.seq);
      return "taken";
    },
    hasRoom: () => true,
    onError: (error) => assert.fail(String(error)),
  });
  scanner.rewind();
  await sleep(5); // the first page read is under way
  // Another instance commits a message with a lower seq than the ones read so far would leave
  // the cursor at: it is stored now, and its notification names its seq.
  rows.splice(4, 0, { seq: 4.5, fn: "test/f", id: "late" });
  scanner.lookBack(4.5);
  for (let i = 0; i < 100 && !considered.includes(4.5); i++) await sleep(10);
  scanner.stop();
  assert.ok(considered.includes(4.5), `the late message was considered: ${considered.join(",")}`);
});
