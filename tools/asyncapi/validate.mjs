// Validate an AsyncAPI document with the official parser (@asyncapi/parser, pinned in
// package-lock.json). Prints every diagnostic as "severity path: message"; exits 1 when the
// parser reports an error or a warning, 2 when the file cannot be read.
// Usage: node validate.mjs PATH/TO/asyncapi.json
import { readFile } from "node:fs/promises";
import { Parser } from "@asyncapi/parser";

const SEVERITY = ["error", "warning", "information", "hint"];
const path = process.argv[2];
if (!path) {
  console.error("usage: node validate.mjs PATH/TO/asyncapi.json");
  process.exit(2);
}
let text;
try {
  text = await readFile(path, "utf8");
} catch (err) {
  console.error(`${path}: cannot read: ${err.message}`);
  process.exit(2);
}
const { document, diagnostics } = await new Parser().parse(text, { source: path });
for (const d of diagnostics) {
  console.log(`${SEVERITY[d.severity]} ${d.path.join(".") || "/"}: ${d.message}`);
}
const failing = diagnostics.filter((d) => d.severity <= 1);
if (document === undefined || failing.length > 0) {
  console.log(`${path}: NOT valid AsyncAPI (${failing.length} errors and warnings)`);
  process.exit(1);
}
console.log(`${path}: valid AsyncAPI ${document.version()}, ${document.channels().length} channels, ${document.allMessages().length} messages`);
