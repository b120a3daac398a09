import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { chromium } from "playwright-core";
import { ADMIN_PAGE_HTML } from "../src/ops/admin-page.js";
import { startOpsFixture } from "./support/ops-fixture.js";
import { tempDir } from "./support/temp-dir.js";
import { until } from "./support/until.js";

const CHROMIUM = "/usr/bin/chromium";
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

// CI installs Debian's chromium (.ci/run); elsewhere the test says why it did not run.
const skip = !existsSync(CHROMIUM) && !process.env.CI ? `${CHROMIUM} is not installed` : false;

function number(text: string | null): number {
  return Number((text ?? "").replaceAll(",", ""));
}

test("the admin page shows live numbers from a running runtime in headless Chromium", {
  skip,
  timeout: 90_000,
}, async (t) => {
  const fx = await startOpsFixture(t);
  for (let i = 0; i < 20; i++) assert.equal(await fx.post(`test/counter/k${i % 4}`), 202);
  assert.equal(await fx.post("test/broken/x"), 202);
  await fx.runtime.dispatcher.settled();
  await until(
    "test/broken/x to be suspended",
    () => fx.runtime.dispatcher.suspendedAddresses().length === 1,
    { timeoutMs: 15_000 },
  );

  const dir = tempDir(t, "switchboard-chromium-");
  const context = await chromium.launchPersistentContext(join(dir, "profile"), {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  t.after(() => context.close());
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  await page.goto(`${fx.admin}/?refresh=250`);

  // Keep traffic flowing until the page has seen it arrive between two refreshes.
  let sent = 0;
  const deadline = Date.now() + 20_000;
  while (!(number(await page.textContent("#applied-rate")) > 0)) {
    assert.ok(Date.now() < deadline, "the page never showed a non-zero throughput");
    for (let i = 0; i < 5; i++) await fx.post(`test/counter/k${sent++ % 4}`);
    await page.waitForTimeout(100);
  }

  assert.match((await page.textContent("#status")) ?? "", /^ready/);
  assert.ok(number(await page.textContent("#applied-rate")) > 0, "throughput");
  assert.ok(number(await page.textContent("#applied-total")) >= 20);
  assert.ok(number(await page.textContent("#accepted-total")) >= 21);
  assert.ok(Number.isFinite(number(await page.textContent("#latency-p99"))), "latency is a number");
  assert.ok(number(await page.textContent("#batch-p99")) >= 1);
  assert.equal(number(await page.textContent("#suspended-count")), 1);
  assert.ok(number(await page.textContent("#egress")) >= 20, "every counter result is waiting on the egress");
  const suspendedRow = (await page.textContent("#suspended tbody tr")) ?? "";
  assert.match(suspendedRow, /test\/broken\/x/);
  assert.match(suspendedRow, /SB_TRANSPORT_DEADLINE_EXCEEDED/);
  const poolRows = await page.$$eval("#pools tbody tr", (rows) =>
    rows.map((row) => [...row.querySelectorAll("td")].map((cell) => cell.textContent ?? "")),
  );
  const functionsPool = poolRows.find((cells) => fx.functions.url.endsWith(cells[0] ?? "-"));
  assert.ok(functionsPool, `a pool row for ${fx.functions.url}: ${JSON.stringify(poolRows)}`);
  assert.ok(number(functionsPool[1] ?? "") >= 1, "open connections");
  assert.ok(number(functionsPool[3] ?? "") >= 20, "requests");

  const screenshot = join(dir, "admin-page.png");
  await page.screenshot({ path: screenshot, fullPage: true });
  const png = readFileSync(screenshot);
  if (process.env.SWITCHBOARD_KEEP_SCREENSHOT) writeFileSync(process.env.SWITCHBOARD_KEEP_SCREENSHOT, png);
  assert.ok(png.length > 10_000, `the screenshot has ${png.length} bytes`);
  assert.deepEqual(png.subarray(0, 8), PNG_SIGNATURE);
  assert.deepEqual(errors, [], "no script errors on the page");
});

test("the live page's script parses and every element it draws into exists (without a browser)", () => {
  const script = /<script>([\s\S]*)<\/script>/.exec(ADMIN_PAGE_HTML)?.[1] ?? "";
  assert.ok(script.length > 1000);
  // Parses only: nothing runs.
  assert.doesNotThrow(() => new Function(script));
  const ids = new Set([...ADMIN_PAGE_HTML.matchAll(/\sid="([^"]+)"/g)].map((match) => match[1]));
  const used = [...script.matchAll(/(?:text|fill|getElementById)\("([a-z0-9-]+)"/g)].map((match) => match[1]);
  assert.ok(used.includes("cluster-members"), "the cluster table is drawn");
  assert.deepEqual(
    used.filter((id) => !ids.has(id)),
    [],
  );
});
