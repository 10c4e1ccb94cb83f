/** A worker that dies in cluster mode: back to the queue when the cluster's head is gone, a crash when it still answers. */
import assert from "node:assert/strict";
import { createServer, type AddressInfo } from "node:net";
import { describe, test } from "node:test";
import { asClusterLoss } from "../../core/app/engines/faster_whisper/cluster_reach.js";
import { SophiaError, isSophiaError } from "../../core/app/errors.js";

const died = () => new SophiaError("worker_crashed", "faster_whisper worker 12 died (killed by SIGKILL) while transcribing a.wav", { details: { exit_code: null, signal: "SIGKILL" } });

async function closedPort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("a worker lost in cluster mode", { timeout: 20_000 }, () => {
  test("is cluster_unavailable when the head no longer answers", async () => {
    const address = `127.0.0.1:${await closedPort()}`;
    const lost = await asClusterLoss(died(), { address, sharedPaths: [] });
    assert.ok(isSophiaError(lost, "cluster_unavailable"), String(lost));
    assert.match((lost as SophiaError).message, new RegExp(`lost the Ray cluster at ${address}.*killed by SIGKILL`));
  });

  test("stays a crash when the head answers, or when the worker itself reported the failure", async () => {
    const head = createServer().listen(0, "127.0.0.1");
    await new Promise((resolve) => head.once("listening", resolve));
    try {
      const address = `127.0.0.1:${(head.address() as AddressInfo).port}`;
      const crash = died();
      assert.equal(await asClusterLoss(crash, { address, sharedPaths: [] }), crash);
    } finally {
      head.close();
    }
    const reported = new SophiaError("worker_crashed", "the request failed 3 times", { details: { worker_code: "worker_crashed" } });
    assert.equal(await asClusterLoss(reported, { address: `127.0.0.1:${await closedPort()}`, sharedPaths: [] }), reported);
  });
});
