import type { ServerResponse } from "node:http";
import { formatAddress } from "../dispatch/address.js";
import { AdminErrors } from "../errors/admin-errors.js";
import { SwitchboardError } from "../errors/switchboard-error.js";
import type { PartitionOwner } from "../store/postgres/cluster-status.js";
import type { AddressRef } from "../store/records.js";
import { bindsLoopbackOnly } from "./admin-access.js";
import type { AdminContext } from "./admin-context.js";
import type { AdminRequest } from "./admin-routes.js";
import { memberAdminUrl } from "./owner-admin-url.js";

/**
 * Marks a request one instance forwarded to another (its value: the forwarding instance). An
 * instance never forwards a request that carries it, so a request is forwarded at most once,
 * even while ownership moves.
 */
export const FORWARDED_BY_HEADER = "x-switchboard-forwarded-by";
/** On a forwarded answer: the instance that answered it. */
export const ANSWERED_BY_HEADER = "x-switchboard-answered-by";
/** The most a forwarded request may take, answer included. */
export const FORWARD_TIMEOUT_MS = 5000;

/** Headers of the owner's answer that go back to the client as they are. */
const RELAYED = ["content-type", "www-authenticate", "retry-after"];

/**
 * Cluster: when another instance owns `address`, sends this admin request to that instance's
 * admin server (the same method, path and bearer token) and relays its answer; returns true
 * then. Returns false when the request is for this instance to answer: no cluster, this
 * instance owns the address, or the request was forwarded to it already. Fails with
 * SB_ADMIN_OWNER_UNAVAILABLE (503) when the owner cannot be found or reached in time.
 */
export async function forwardToOwner(
  context: AdminContext,
  request: AdminRequest,
  response: ServerResponse,
  address: AddressRef,
): Promise<boolean> {
  const member = context.cluster;
  if (!member || member.owns(address)) return false;
  const partition = member.partitionOf(address);
  const facts = { address: formatAddress(address), partition };
  if (request.headers[FORWARDED_BY_HEADER] !== undefined) {
    throw new SwitchboardError(
      AdminErrors.OWNER_UNAVAILABLE,
      `${member.instanceId} does not own partition ${partition} (any more) and does not forward a forwarded request; try again`,
      facts,
    );
  }
  let owner: PartitionOwner | undefined;
  try {
    owner = await member.ownerOf(partition);
  } catch (error) {
    throw new SwitchboardError(
      AdminErrors.OWNER_UNAVAILABLE,
      `the owner of partition ${partition} could not be read from the database: ${reasonOf(error)}`,
      facts,
    );
  }
  const target = owner && owner.instanceId !== member.instanceId ? memberAdminUrl(owner) : undefined;
  if (!owner || !target) {
    throw new SwitchboardError(
      AdminErrors.OWNER_UNAVAILABLE,
      owner
        ? `the owner of partition ${partition}, ${owner.instanceId}, has no reachable admin port registered`
        : `partition ${partition} has no owner now (it is changing hands); try again`,
      { ...facts, owner: owner?.instanceId ?? null },
    );
  }
  let answer: Response;
  let body: Buffer;
  try {
    answer = await fetch(`${target}${request.path}`, {
      method: request.method,
      headers: {
        [FORWARDED_BY_HEADER]: member.instanceId,
        ...(request.headers.authorization ? { authorization: request.headers.authorization } : {}),
      },
      redirect: "manual",
      signal: AbortSignal.timeout(FORWARD_TIMEOUT_MS),
    });
    body = Buffer.from(await answer.arrayBuffer());
  } catch (error) {
    throw new SwitchboardError(
      AdminErrors.OWNER_UNAVAILABLE,
      `the owner of partition ${partition}, ${owner.instanceId} at ${target}, did not answer: ${reasonOf(error)}${remoteHint(target)}`,
      { ...facts, owner: owner.instanceId, target },
    );
  }
  const headers: Record<string, string | number> = {
    "content-length": body.length,
    [ANSWERED_BY_HEADER]: answer.headers.get(ANSWERED_BY_HEADER) ?? owner.instanceId,
  };
  for (const name of RELAYED) {
    const value = answer.headers.get(name);
    if (value !== null) headers[name] = value;
  }
  response.writeHead(answer.status, headers);
  response.end(request.method === "HEAD" ? undefined : body);
  return true;
}

/**
 * What to check when an owner on another machine does not answer: the defaults (the machine's
 * name, an admin port on 127.0.0.1) only work between instances on one machine.
 */
function remoteHint(target: string): string {
  if (bindsLoopbackOnly(new URL(target).hostname)) return "";
  return (
    "; an instance on another machine is reached only if its admin server binds an interface the others " +
    "can dial (--admin-host, with --admin-token) and it advertises that address (--advertise-host)"
  );
}

function reasonOf(error: unknown): string {
  if (error instanceof Error && error.name === "TimeoutError")
    return `no answer within ${FORWARD_TIMEOUT_MS} ms`;
  const cause = error instanceof Error ? (error.cause as NodeJS.ErrnoException | undefined) : undefined;
  return cause?.code ?? (error instanceof Error ? error.message : String(error));
}
