/**
 * The few counters a benchmark reads from a running instance's admin server: messages applied
 * and function calls with the messages they carried (/metrics, Prometheus text, summed over
 * their labels; a histogram appears only once observed, so a missing series reads as 0), and
 * the store's group commits with the units they carried (/api/overview: the store's own
 * figures, which both backends keep; /metrics shows commits of the embedded store only).
 */
export interface RuntimeCounters {
  applied: number;
  commits: number;
  committedUnits: number;
  calls: number;
  calledMessages: number;
}

/** Counters read from /metrics; the store's commits come from /api/overview. */
const SERIES: Partial<Record<keyof RuntimeCounters, string>> = {
  applied: "switchboard_messages_applied_total",
  calls: "switchboard_invocation_batch_size_count",
  calledMessages: "switchboard_invocation_batch_size_sum",
};

export async function scrapeCounters(adminUrl: string): Promise<RuntimeCounters> {
  const [text, overview] = await Promise.all([
    fetch(`${adminUrl}/metrics`).then((response) => response.text()),
    fetch(`${adminUrl}/api/overview`).then(
      (response) => response.json() as Promise<{ store: { commits: number; units: number } }>,
    ),
  ]);
  const counters: RuntimeCounters = {
    applied: 0,
    commits: overview.store.commits,
    committedUnits: overview.store.units,
    calls: 0,
    calledMessages: 0,
  };
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const name = line.split(/[{ ]/, 1)[0];
    for (const [key, series] of Object.entries(SERIES) as [keyof RuntimeCounters, string][]) {
      if (name === series) counters[key] += Number(line.slice(line.lastIndexOf(" ") + 1));
    }
  }
  return counters;
}

export function sumCounters(all: readonly RuntimeCounters[]): RuntimeCounters {
  const total: RuntimeCounters = { applied: 0, commits: 0, committedUnits: 0, calls: 0, calledMessages: 0 };
  for (const counters of all) {
    for (const key of Object.keys(total) as (keyof RuntimeCounters)[]) total[key] += counters[key];
  }
  return total;
}

export function counterDelta(after: RuntimeCounters, before: RuntimeCounters): RuntimeCounters {
  const delta = { ...after };
  for (const key of Object.keys(delta) as (keyof RuntimeCounters)[]) delta[key] -= before[key];
  return delta;
}
