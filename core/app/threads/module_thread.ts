/**
 * A worker thread that runs one module of this project: the module exports
 * `threadMain(data)` and talks to its parent through `parentPort`.
 *
 * Why a bootstrap: under tsx (the tests, `node --import tsx`) a worker thread does not inherit tsx's
 * module loader on Node 20 (privatenumber/tsx#354), so a thread whose module is TypeScript registers
 * tsx itself before importing it. Built code (dist/) loads plain .js and needs none of this.
 */
import { Worker } from "node:worker_threads";

const BOOTSTRAP = `
const { workerData } = require("node:worker_threads");
(async () => {
  if (workerData.tsx) (await import(workerData.tsx)).register();
  const module = await import(workerData.module);
  await module.threadMain(workerData.data);
})().catch((error) => { setImmediate(() => { throw error; }); });
`;

/** This file runs as TypeScript source (tests under tsx), not from dist/. */
const UNDER_TSX = import.meta.url.endsWith(".ts");

/** Starts `module` (a URL next to the caller, written with its .js name) in a new worker thread. */
export function startModuleThread(module: URL, data: unknown): Worker {
  return new Worker(BOOTSTRAP, {
    eval: true,
    workerData: { module: module.href, tsx: UNDER_TSX ? import.meta.resolve("tsx/esm/api") : null, data },
  });
}
