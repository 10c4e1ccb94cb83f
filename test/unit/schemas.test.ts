/** The published JSON Schemas are generated from the zod source of truth and must be current. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { generatedSchemas } from "../../scripts/gen-schemas.js";
import { TaskSchema } from "../../core/app/task/model/schema.js";
import { PROJECT, specExampleTask } from "../support/harness.js";

test("schemas/*.schema.json match what the TypeScript schema generates", { timeout: 60_000 }, () => {
  for (const [name, text] of Object.entries(generatedSchemas())) {
    assert.equal(readFileSync(path.join(PROJECT, "schemas", name), "utf8"), text, `${name} is stale: run npm run build`);
  }
});

test("the spec's example task validates as written", { timeout: 60_000 }, () => {
  assert.equal(TaskSchema.safeParse(specExampleTask()).success, true);
});
