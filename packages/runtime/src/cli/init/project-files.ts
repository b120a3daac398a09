/**
 * The files `switchboard init` writes: a module with one stateful function and one web
 * function, served by the host, fed by a playground ingress and read from a playground egress,
 * with a test for both. Kept as plain text so what a user gets is easy to read here.
 */
export interface ProjectPaths {
  /** The project's name (its directory's name, made npm-safe). */
  readonly name: string;
  /** Absolute path of this checkout's packages/sdk. */
  readonly sdk: string;
  /** Absolute path of this checkout's packages/runtime. */
  readonly runtime: string;
  /** The tsx version range the runtime itself uses. */
  readonly tsx: string;
}

/** Starts the CLI from the linked checkout's sources (the packages are not built or published). */
const CLI = "node --conditions=development --import tsx node_modules/switchboard/src/cli/main.ts";

export function projectFiles(paths: ProjectPaths): Record<string, string> {
  return {
    "package.json": `${JSON.stringify(
      {
        name: paths.name,
        version: "0.1.0",
        private: true,
        type: "module",
        engines: { node: ">=20" },
        scripts: {
          start: `${CLI} run module.yaml`,
          test: "node --conditions=development --import tsx --test --test-reporter=spec test/*.test.ts",
          validate: `${CLI} validate module.yaml`,
        },
        dependencies: {
          "@switchboard/sdk": `file:${paths.sdk}`,
          switchboard: `file:${paths.runtime}`,
        },
        devDependencies: { tsx: paths.tsx },
      },
      null,
      2,
    )}\n`,
    "module.yaml": MODULE_YAML,
    "functions.ts": FUNCTIONS_TS,
    "test/functions.test.ts": TEST_TS,
    "tsconfig.json": TSCONFIG,
    ".gitignore": "node_modules/\n.switchboard/\n",
    "README.md": readme(paths),
  };
}

const MODULE_YAML = `# The functions in functions.ts, run inside Switchboard's host (no separate server).
kind: io.switchboard.functions.v1/module
spec:
  module: ./functions.ts
  functions: [app/counter]
  web: [hello]
  limits:
    timeout: 10s
---
# Web functions: http://127.0.0.1:8092/functions/<name>
kind: io.switchboard.functions.v1/web
spec:
  port: 8092
---
# Messages in: POST http://127.0.0.1:8090/<namespace>/<name>/<id>
kind: io.statefun.playground.v1/ingress
spec:
  port: 8090
---
# Records out: GET http://127.0.0.1:8091/<topic> pops the oldest one.
kind: io.statefun.playground.v1/egress
spec:
  port: 8091
  topics: [counts]
`;

const FUNCTIONS_TS = `import { INT, playgroundEgressMessage, StatefulFunctions, valueSpec, webFunction } from "@switchboard/sdk";

const COUNT = valueSpec("count", INT);

/**
 * A stateful function: each address (app/counter/<id>) counts the messages it received,
 * durably, and reports the new count on the "counts" topic of the playground egress.
 */
export const functions = new StatefulFunctions().register({
  typename: "app/counter",
  specs: [COUNT],
  fn: (context, message) => {
    const count = (context.storage.get(COUNT) ?? 0) + 1;
    context.storage.set(COUNT, count);
    const from = message.isString() ? \` (\${message.asString()})\` : "";
    context.sendEgress(playgroundEgressMessage("counts", \`\${context.self.id}: \${count}\${from}\`));
  },
});

/** A web function: any method on /functions/hello[?name=...]; a text body also names who to greet. */
export const hello = webFunction({
  name: "hello",
  input: "text",
  handler: (body, request) => {
    const name = body.trim() || request.query.name?.[0] || "world";
    return { greeting: \`Hello, \${name}!\` };
  },
});
`;

const TEST_TS = `import assert from "node:assert/strict";
import { test } from "node:test";
import { address, messageBuilder } from "@switchboard/sdk";
import { TestRuntime, WebTestHost } from "@switchboard/sdk/testing";
import { functions, hello } from "../functions.js";

test("the counter counts per address and reports each count", async () => {
  const runtime = new TestRuntime(functions);
  await runtime.send(messageBuilder({ typename: "app/counter", id: "a", value: "hi" }));
  await runtime.send(messageBuilder({ typename: "app/counter", id: "a", value: "again" }));
  await runtime.send(messageBuilder({ typename: "app/counter", id: "b", value: "hi" }));
  assert.deepEqual(runtime.playgroundRecords("counts"), ["a: 1 (hi)", "a: 2 (again)", "b: 1 (hi)"]);
  assert.equal(runtime.history.at(-1)?.target.typename, address("app/counter", "b").typename);
});

test("hello greets the name in the body, else the query, else the world", async () => {
  const host = new WebTestHost({ functions: [hello] });
  assert.deepEqual((await host.request(hello, { body: "Ada" })).json(), { greeting: "Hello, Ada!" });
  assert.deepEqual((await host.request(hello, { path: "?name=Grace" })).json(), { greeting: "Hello, Grace!" });
  const plain = await host.request(hello);
  assert.equal(plain.status, 200);
  assert.equal(plain.header("content-type"), "application/json");
  assert.deepEqual(plain.json(), { greeting: "Hello, world!" });
});
`;

const TSCONFIG = `${JSON.stringify(
  {
    compilerOptions: {
      target: "ES2022",
      module: "NodeNext",
      moduleResolution: "NodeNext",
      customConditions: ["development"],
      strict: true,
      noEmit: true,
      skipLibCheck: true,
    },
    include: ["*.ts", "test"],
  },
  null,
  2,
)}\n`;

function readme(paths: ProjectPaths): string {
  return `# ${paths.name}

A Switchboard project: one stateful function and one web function (functions.ts), run by
Switchboard's host as module.yaml says, with tests that need no network (test/).

\`\`\`sh
npm install
npm start        # or: npm test
\`\`\`

Then, while it runs:

\`\`\`sh
curl -d Ada http://127.0.0.1:8092/functions/hello            # {"greeting":"Hello, Ada!"}
curl -d hi  http://127.0.0.1:8090/app/counter/a               # 202: stored, then delivered
curl        http://127.0.0.1:8091/counts                      # a: 1 (hi)
\`\`\`

State lives in \`.switchboard/\` and survives restarts.

## Where Switchboard comes from

Switchboard is not published on npm yet. package.json links this project to the checkout it
was created from, by absolute path:

- \`@switchboard/sdk\` -> \`${paths.sdk}\`
- \`switchboard\` -> \`${paths.runtime}\`

That checkout must have its own dependencies installed (\`npm install\` in it). The scripts
run the runtime from its TypeScript sources (\`--conditions=development --import tsx\`), so no
build step is needed. If the checkout moves, change the two \`file:\` paths and run
\`npm install\` again.

## Files

- \`module.yaml\`: the module (which functions and web functions it serves), the web
  listener (port 8092), a playground ingress (8090) and egress (8091, topic \`counts\`).
- \`functions.ts\`: \`app/counter\` (stateful) and \`hello\` (web).
- \`test/functions.test.ts\`: \`TestRuntime\` and \`WebTestHost\` from \`@switchboard/sdk/testing\`.
- \`npm run validate\`: checks module.yaml and prints its effective settings.
`;
}
