/**
 * Copies the files the build needs besides compiled TypeScript into dist/, beside the modules that
 * load them (as BullMQ ships its Lua scripts): the faster_whisper worker and its sibling Python
 * files, found by `new URL("./worker.py", import.meta.url)`, so a bundled or installed package
 * never looks for its source tree.
 */
import { copyFileSync, mkdirSync, readdirSync } from "node:fs";
import path from "node:path";
import { PACKAGE_DIR } from "../core/app/config.js";

const ASSET_DIRS = ["core/app/engines/faster_whisper", "core/app/engines/faster_whisper/cluster"];
const ASSET_FILE = /\.(py|txt)$/;

for (const dir of ASSET_DIRS) {
  const from = path.join(PACKAGE_DIR, dir);
  const to = path.join(PACKAGE_DIR, "dist", dir);
  mkdirSync(to, { recursive: true });
  for (const name of readdirSync(from).filter((file) => ASSET_FILE.test(file))) copyFileSync(path.join(from, name), path.join(to, name));
}
