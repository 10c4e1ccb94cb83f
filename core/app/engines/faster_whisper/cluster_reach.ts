/**
 * Whether a Ray cluster's head still answers: what tells a worker (a Ray driver) that died because
 * its cluster went away from one that crashed on its own. Ray ends a driver that has lost the head
 * for long enough; its task must then go back to the queue, not fail (spec §4.2, faults).
 */
import { connect } from "node:net";
import { SophiaError, isSophiaError } from "../../errors.js";
import type { ClusterSettings } from "../engine.js";

const PROBE_TIMEOUT_MS = 5_000;

/**
 * `error` as cluster_unavailable when it is a worker process that died (not an error the worker
 * reported) and the head at `cluster.address` does not answer; otherwise `error` itself. `auto` has
 * no address to try here, so its errors stay as they are.
 */
export async function asClusterLoss(error: unknown, cluster: ClusterSettings): Promise<unknown> {
  if (!isSophiaError(error, "worker_crashed") || error.details.worker_code !== undefined || cluster.address === "auto") return error;
  if (await answers(cluster.address)) return error;
  return new SophiaError("cluster_unavailable", `lost the Ray cluster at ${cluster.address}: its head no longer answers, and ${error.message}`, { cause: error, details: error.details });
}

function answers(address: string): Promise<boolean> {
  const separator = address.lastIndexOf(":");
  const [host, port] = [address.slice(0, separator), Number(address.slice(separator + 1))];
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: PROBE_TIMEOUT_MS });
    const done = (answered: boolean) => {
      socket.destroy();
      resolve(answered);
    };
    socket.once("connect", () => done(true));
    socket.once("timeout", () => done(false));
    socket.once("error", () => done(false));
  });
}
