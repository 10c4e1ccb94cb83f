/**
 * Prints the mutation score of each module from the reports `npm run mutate` leaves in
 * reports/mutation/ (StrykerJS's JSON, mutation-testing-report-schema; mutmut's results, turned
 * into the same counts by scripts/mutate): killed (a test failed, or it timed out) over all mutants
 * that ran, as Stryker counts it. Survivors are listed with file and line, for the judgement of which
 * are equivalent.
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";

const REPORTS = path.join("reports", "mutation");

interface Mutant {
  status: string;
  mutatorName: string;
  replacement?: string;
  location: { start: { line: number } };
}

interface Report {
  files: Record<string, { mutants: Mutant[] }>;
}

const rows: string[] = [];
const survivors: string[] = [];
for (const name of existsSync(REPORTS) ? readdirSync(REPORTS).filter((file) => file.endsWith(".json")).sort() : []) {
  const report = JSON.parse(readFileSync(path.join(REPORTS, name), "utf8")) as Report;
  const count: Record<string, number> = {};
  for (const [file, { mutants }] of Object.entries(report.files)) {
    for (const mutant of mutants) {
      count[mutant.status] = (count[mutant.status] ?? 0) + 1;
      if (mutant.status === "Survived" || mutant.status === "NoCoverage") {
        survivors.push(`${file}:${mutant.location.start.line} ${mutant.mutatorName}${mutant.replacement ? ` → ${mutant.replacement.replace(/\s+/g, " ").slice(0, 80)}` : ""}`);
      }
    }
  }
  const killed = (count.Killed ?? 0) + (count.Timeout ?? 0);
  const ran = killed + (count.Survived ?? 0) + (count.NoCoverage ?? 0);
  const score = ran === 0 ? "n/a" : `${((100 * killed) / ran).toFixed(1)} %`;
  rows.push(`${name.replace(/\.json$/, "").padEnd(18)} ${score.padStart(8)}   killed ${killed} of ${ran} (survived ${count.Survived ?? 0}, no coverage ${count.NoCoverage ?? 0}, errors ${(count.CompileError ?? 0) + (count.RuntimeError ?? 0)})`);
}
process.stdout.write(`${rows.length > 0 ? rows.join("\n") : "no reports yet in reports/mutation/"}\n`);
if (process.argv.includes("--survivors")) process.stdout.write(`\nsurvivors:\n${survivors.join("\n")}\n`);
