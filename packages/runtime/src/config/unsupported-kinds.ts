/**
 * StateFun component kinds that Switchboard recognises but does not run: StateFun's Kafka
 * and Kinesis I/O. A module that uses them is a StateFun application being moved over, so the
 * error says what to use instead and where the migration guide is, rather than "unknown kind".
 */
const GUIDE = "docs/statefun-migration.md";

const INGRESS_INSTEAD =
  "send messages in through an io.statefun.playground.v1/ingress (HTTP POST per message), with a small consumer that reads the topic or stream and posts each record";
const EGRESS_INSTEAD =
  "send records out through an io.switchboard.v1/webhook-egress (HTTP POST per record, at least once, with an Idempotency-Key) to a service that produces them to the topic or stream";

const UNSUPPORTED: ReadonlyMap<string, { what: string; instead: string }> = new Map([
  ["io.statefun.kafka.v1/ingress", { what: "StateFun's Kafka ingress", instead: INGRESS_INSTEAD }],
  ["io.statefun.kafka.v1/egress", { what: "StateFun's Kafka egress", instead: EGRESS_INSTEAD }],
  ["io.statefun.kinesis.v1/ingress", { what: "StateFun's Kinesis ingress", instead: INGRESS_INSTEAD }],
  ["io.statefun.kinesis.v1/egress", { what: "StateFun's Kinesis egress", instead: EGRESS_INSTEAD }],
]);

/** The error for a StateFun kind Switchboard does not run, or undefined for any other kind. */
export function unsupportedKindMessage(kind: string): string | undefined {
  const unsupported = UNSUPPORTED.get(kind);
  if (!unsupported) return undefined;
  return `${kind} is ${unsupported.what}, which Switchboard does not run (it has no Kafka or Kinesis I/O); ${unsupported.instead}. See ${GUIDE}`;
}
