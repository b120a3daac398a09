import assert from "node:assert/strict";
import { test } from "node:test";
import { setImmediate as nextTurn } from "node:timers/promises";
import { InFlightLimiter } from "../src/dispatch/in-flight-limiter.js";

test("a freed slot goes to the lanes in turn: one waiter of a quiet lane is served before a busy lane's hundred", async () => {
  const limiter = new InFlightLimiter(2);
  const started: string[] = [];
  for (let index = 0; index < 2; index++) limiter.acquire("busy", () => started.push(`busy${index}`));
  for (let index = 2; index < 100; index++) limiter.acquire("busy", () => started.push(`busy${index}`));
  limiter.acquire("quiet", () => started.push("quiet"));
  await nextTurn();
  assert.deepEqual(started, ["busy0", "busy1"], "both slots taken, the rest wait");
  assert.equal(limiter.queued, 99);
  assert.equal(limiter.queuedIn("quiet"), 1);

  limiter.release();
  limiter.release();
  assert.deepEqual(started.slice(2), ["busy2", "quiet"], "the lanes take the freed slots in turn");
  limiter.release();
  limiter.release();
  assert.deepEqual(started.slice(4), ["busy3", "busy4"], "a lane alone takes every freed slot, in order");
  assert.equal(limiter.active, 2);
});

test("with free slots, waiters of every lane start in the next turns, at most the per-turn budget each turn", async () => {
  const limiter = new InFlightLimiter(10, 4);
  const started: string[] = [];
  for (let index = 0; index < 6; index++) limiter.acquire("a", () => started.push(`a${index}`));
  for (let index = 0; index < 3; index++) limiter.acquire("b", () => started.push(`b${index}`));
  assert.deepEqual(started, ["a0", "a1", "a2", "a3"], "this turn's budget");
  await nextTurn();
  assert.deepEqual(started.slice(4), ["a4", "b0", "a5", "b1"], "next turn: lanes in turn");
  await nextTurn();
  assert.deepEqual(started.slice(8), ["b2"]);
  assert.equal(limiter.active, 9);
  assert.equal(limiter.queued, 0);
});

test("clearWaiting forgets every lane's waiters; released slots then free up", async () => {
  const limiter = new InFlightLimiter(1);
  let ran = 0;
  limiter.acquire("a", () => ran++);
  limiter.acquire("a", () => ran++);
  limiter.acquire("b", () => ran++);
  limiter.clearWaiting();
  assert.equal(limiter.queued, 0);
  limiter.release();
  await nextTurn();
  assert.equal(ran, 1);
  assert.equal(limiter.active, 0);
});
