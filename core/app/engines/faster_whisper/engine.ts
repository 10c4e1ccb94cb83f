/**
 * The faster_whisper engine: a small pool of worker.py processes. Workers outlive requests, so a
 * long-running runner loads each model once per worker; a worker that died is dropped and the next
 * request starts a fresh one. A worker killed by a cancel is replaced at once, in the background,
 * by one that loads the same model, so the next task does not wait for the model again.
 */
import { stat } from "node:fs/promises";
import { availableParallelism } from "node:os";
import path from "node:path";
import { SophiaError } from "../../errors.js";
import type { Transcript } from "../../transcript.js";
import type { AlignControls, AlignedWord, AlignRequest, AsrEngine, ClusterSettings, EngineConfig, ModelInfo, TranscribeControls, TranscribeRequest } from "../engine.js";
import { assertHasAudio, assertModelSpeaks, findModel, isMultilingual, listModels, needsMultilingual, type ModelLookup } from "./models.js";
import { asClusterLoss } from "./cluster_reach.js";
import { WhisperWorker, type WhisperWorkerOptions } from "./worker_process.js";

export interface FasterWhisperEngineOptions {
  /** The Python interpreter of the engine's venv (config.ts resolves it). */
  python: string;
  /** `workspace/models`: local model directories by name. */
  modelsDir?: string;
  /** Most worker processes alive at once; more requests than that wait for a free worker. */
  maxWorkers: number;
  /** Each worker a Ray driver whose requests run on this cluster's nodes (cluster/driver.py), or null. */
  cluster?: ClusterSettings | null;
  /** Worker script and environment overrides, for tests. */
  script?: string;
  env?: Record<string, string>;
  /**
   * Start a replacement for a worker a cancel killed, loading its model, at once (default true).
   * false is the old behaviour, for the benchmark that compares the two (bench/cancel_reload.bench.ts).
   */
  replaceCanceled?: boolean;
}

export class FasterWhisperEngine implements AsrEngine {
  private readonly workers = new Set<WhisperWorker>();
  private readonly idle: WhisperWorker[] = [];
  /** Requests holding a slot (a worker, or the right to start one); at most maxWorkers. */
  private slotsInUse = 0;
  private readonly waiting: Array<{ grant: () => void; cancel: () => void }> = [];
  private closed = false;
  /** Replacements for canceled workers, starting and loading their model; a request takes one before starting a worker of its own. */
  private readonly warming: Array<Promise<WhisperWorker | null>> = [];
  /** Aborted by close(): a replacement still starting or loading is killed rather than waited for. */
  private readonly warmup = new AbortController();
  /** Models found, by name: submit and preflight look one up per task, and each lookup starts Python (0.2 s or more). */
  private readonly found = new Map<string, ModelInfo>();

  constructor(private readonly options: FasterWhisperEngineOptions) {
    if (!Number.isInteger(options.maxWorkers) || options.maxWorkers < 1) throw new SophiaError("internal", `maxWorkers must be a positive integer, got ${options.maxWorkers}`);
  }

  /** Workers alive now (idle or busy). */
  get size(): number {
    return [...this.workers].filter((worker) => worker.alive).length;
  }

  models(): Promise<ModelInfo[]> {
    return listModels(this.lookup());
  }

  async check(config: EngineConfig, signal?: AbortSignal): Promise<ModelInfo> {
    const model = await this.find(config.model, config.allow_download, signal);
    // The list only names the alternatives in the refusal: no second lookup when there is none.
    if (!isMultilingual(model) && needsMultilingual(config) !== null) assertModelSpeaks(config, model, await listModels(this.lookup(), signal));
    return model;
  }

  checkMedia(media: string, signal?: AbortSignal): Promise<void> {
    return assertHasAudio(media, this.lookup(), signal);
  }

  /**
   * A model found before is trusted while its directory is still there and no workspace/models/<name>
   * has appeared since to take precedence; a model not found is looked up again each time, so one
   * added later is seen. The worker resolves the name again when it loads it, by the same rule.
   */
  private async find(name: string, allowDownload: boolean, signal?: AbortSignal): Promise<ModelInfo> {
    const key = `${allowDownload ? "download" : "local"}:${name}`;
    const known = this.found.get(key);
    if (known?.path && (await isThere(path.join(known.path, "model.bin"))) && (known.source === "path" || known.source === "models_dir" || !(await this.inModelsDir(name)))) return known;
    this.found.delete(key);
    const model = await findModel(name, allowDownload, this.lookup(), signal);
    if (model.path) this.found.set(key, model);
    return model;
  }

  private async inModelsDir(name: string): Promise<boolean> {
    return this.options.modelsDir !== undefined && !name.includes("/") && (await isThere(path.join(this.options.modelsDir, name)));
  }

  transcribe(request: TranscribeRequest, controls: TranscribeControls): Promise<Transcript> {
    return this.withWorker(controls.signal, (worker) => worker.transcribe(request, controls));
  }

  align(request: AlignRequest, controls: AlignControls): Promise<(AlignedWord[] | null)[]> {
    return this.withWorker(controls.signal, (worker) => worker.align(request, controls));
  }

  /** A first worker, connected to the cluster and kept for the first request (cluster mode only). */
  async connect(signal?: AbortSignal): Promise<void> {
    if (!this.options.cluster) return;
    await this.takeSlot(signal ?? new AbortController().signal);
    try {
      this.putBack(await this.workerForSlot(signal));
    } finally {
      this.releaseSlot();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.warmup.abort(this.closedError());
    for (const waiter of this.waiting.splice(0)) waiter.cancel();
    await Promise.all(this.warming.splice(0));
    await Promise.all([...this.workers].map((worker) => worker.close()));
    this.workers.clear();
    this.idle.length = 0;
  }

  private async withWorker<T>(signal: AbortSignal, use: (worker: WhisperWorker) => Promise<T>): Promise<T> {
    await this.takeSlot(signal);
    try {
      const worker = await this.workerForSlot();
      try {
        return await use(worker);
      } catch (error) {
        throw this.options.cluster ? await asClusterLoss(error, this.options.cluster) : error;
      } finally {
        this.putBack(worker);
        // An abort kills the worker (the only prompt way to stop CTranslate2 mid-decode): its replacement starts now, not when the next task asks.
        if (signal.aborted && !worker.alive) this.replace(worker);
      }
    } finally {
      this.releaseSlot();
    }
  }

  private async takeSlot(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    this.assertOpen();
    if (this.slotsInUse < this.options.maxWorkers) {
      this.slotsInUse++;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        this.waiting.splice(this.waiting.indexOf(waiter), 1);
        reject(signal.reason);
      };
      const waiter = {
        // The slot passes straight from releaseSlot to this waiter: slotsInUse does not change.
        grant: () => (signal.removeEventListener("abort", onAbort), resolve()),
        cancel: () => (signal.removeEventListener("abort", onAbort), reject(this.closedError())),
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.waiting.push(waiter);
    });
  }

  private releaseSlot(): void {
    const next = this.waiting.shift();
    if (next) next.grant();
    else this.slotsInUse--;
  }

  private async workerForSlot(signal?: AbortSignal): Promise<WhisperWorker> {
    for (let worker = this.idle.pop(); worker; worker = this.idle.pop()) {
      if (worker.alive) return worker;
      this.workers.delete(worker); // died while idle (killed from outside, out of memory)
    }
    // A replacement on its way is further along than a worker started now.
    const warming = this.warming.shift();
    const replacement = warming ? await warming : null;
    if (replacement?.alive && !this.closed) return replacement;
    this.assertOpen(); // closed while the replacement was awaited: it was killed, start no other
    const worker = await WhisperWorker.start(this.workerOptions(), signal);
    if (this.closed) {
      await worker.close();
      throw this.closedError();
    }
    this.workers.add(worker);
    return worker;
  }

  /**
   * Starts a worker in place of one a cancel killed and loads the model that one was asked for. It
   * takes the dead worker's place, so no more workers run than before the cancel. A replacement
   * that fails is dropped quietly: the next request starts its own worker and meets the failure
   * (a model removed meanwhile, a broken venv) with its task.
   */
  private replace(killed: WhisperWorker): void {
    const config = killed.lastConfig;
    if (!config || this.closed || this.options.replaceCanceled === false) return;
    const signal = this.warmup.signal;
    const warming = (async () => {
      let worker: WhisperWorker | null = null;
      try {
        worker = await WhisperWorker.start(this.workerOptions(), signal);
        this.workers.add(worker);
        await worker.load(config, signal);
        return worker;
      } catch {
        if (worker) {
          this.workers.delete(worker);
          await worker.close();
        }
        return null;
      }
    })();
    this.warming.push(warming);
    void warming.then((worker) => {
      const unclaimed = this.warming.indexOf(warming);
      if (unclaimed === -1) return; // a request took it while it was warming
      this.warming.splice(unclaimed, 1);
      if (worker) this.putBack(worker);
    });
  }

  private workerOptions(): WhisperWorkerOptions {
    return { python: this.options.python, modelsDir: this.options.modelsDir, script: this.options.script, env: { ...this.lanes(), ...this.clusterEnv(), ...this.options.env } };
  }

  /**
   * Each worker's share of the cores, as lanes of one CTranslate2 thread (lanes.py): the cores over
   * the most workers at once, so that a runner of concurrency 2 on 2 cores runs a lane per task.
   * SOPHIA_ASR_LANES set for the runner is kept.
   */
  private lanes(): Record<string, string> {
    // On a cluster each actor is a lane of its own, on a CPU of its node (cluster/driver.py): this machine's cores do not count.
    if (process.env.SOPHIA_ASR_LANES || this.options.cluster) return {};
    return { SOPHIA_ASR_LANES: String(Math.max(1, Math.floor(availableParallelism() / this.options.maxWorkers))) };
  }

  private clusterEnv(): Record<string, string> {
    const { cluster } = this.options;
    return cluster ? { SOPHIA_CLUSTER: cluster.address, SOPHIA_CLUSTER_SHARED_PATHS: cluster.sharedPaths.join(path.delimiter) } : {};
  }

  private putBack(worker: WhisperWorker): void {
    if (worker.alive && !this.closed) this.idle.push(worker);
    else this.workers.delete(worker);
  }

  private lookup(): ModelLookup {
    return { python: this.options.python, modelsDir: this.options.modelsDir, env: this.options.env };
  }

  private assertOpen(): void {
    if (this.closed) throw this.closedError();
  }

  private closedError(): SophiaError {
    return new SophiaError("interrupted", "the faster_whisper engine was closed: the runner is shutting down");
  }
}

async function isThere(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}
