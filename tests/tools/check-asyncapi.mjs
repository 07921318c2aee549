// Parses the committed AsyncAPI document with the official parser, as an integrator's tooling would,
// and fails on any error it reports (warnings are printed, not counted).
import { readFile } from "node:fs/promises";
import { Parser } from "@asyncapi/parser";

const path = process.argv[2] ?? new URL("../../openapi/asyncapi.json", import.meta.url).pathname;
const document = await readFile(path, "utf8");
const parser = new Parser();
const { diagnostics } = await parser.parse(document);
const errors = diagnostics.filter((d) => d.severity === 0);
for (const d of diagnostics) {
  const level = ["error", "warning", "info", "hint"][d.severity] ?? d.severity;
  if (d.severity <= 1) console.log(`${level}: ${d.code} at ${d.path.join(".")}: ${d.message}`);
}
console.log(`${path}: ${errors.length} errors, ${diagnostics.length - errors.length} other diagnostics`);
process.exit(errors.length === 0 ? 0 : 1);
