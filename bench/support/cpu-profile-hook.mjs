/**
 * Loaded into a benchmark server with NODE_OPTIONS=--import: SIGUSR2 starts V8's sampling
 * profiler (250 us), SIGTERM writes the profile to $BENCH_PROFILE_OUT and exits. Lets a
 * benchmark profile only its measured load, not the server's start-up and warm-up.
 */
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector";

const session = new Session();
session.connect();
const post = (method, params = {}) =>
  new Promise((resolve, reject) =>
    session.post(method, params, (error, result) => (error ? reject(error) : resolve(result))),
  );
let started = false;
process.on("SIGUSR2", async () => {
  await post("Profiler.enable");
  await post("Profiler.setSamplingInterval", { interval: 250 });
  await post("Profiler.start");
  started = true;
});
process.on("SIGTERM", async () => {
  if (started) {
    const { profile } = await post("Profiler.stop");
    writeFileSync(process.env.BENCH_PROFILE_OUT ?? "profile.cpuprofile", JSON.stringify(profile));
  }
  process.exit(0);
});
