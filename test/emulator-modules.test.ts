// The project's files depend one way: no cycle of runtime imports (a type
// import is erased and does not count). A cycle makes the order in which
// modules initialise depend on which one a caller imports first; the
// emulator's machine.ts / load-bundle.ts cycle was one. In the firmware it
// matters twice over: Espruino does not hoist, so a module whose function
// runs before a cycle partner's body has run finds it undefined.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import ts from "typescript";

/** The relative modules `file` imports or re-exports at run time. */
function runtimeImports(file: string): string[] {
  const src = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.ES2022, false);
  const out: string[] = [];
  for (const st of src.statements) {
    let spec: ts.Expression | undefined;
    if (ts.isImportDeclaration(st)) {
      const clause = st.importClause;
      const typeOnly =
        clause !== undefined &&
        (clause.isTypeOnly ||
          (clause.name === undefined &&
            clause.namedBindings !== undefined &&
            ts.isNamedImports(clause.namedBindings) &&
            clause.namedBindings.elements.length > 0 &&
            clause.namedBindings.elements.every((e) => e.isTypeOnly)));
      if (!typeOnly) spec = st.moduleSpecifier;
    } else if (ts.isExportDeclaration(st) && st.moduleSpecifier) {
      const named = st.exportClause;
      const typeOnly =
        st.isTypeOnly || (named !== undefined && ts.isNamedExports(named) && named.elements.length > 0 && named.elements.every((e) => e.isTypeOnly));
      if (!typeOnly) spec = st.moduleSpecifier;
    }
    if (spec && ts.isStringLiteral(spec) && spec.text.startsWith(".")) {
      const path = normalize(join(dirname(file), spec.text));
      out.push(path.endsWith(".ts") ? path : path + ".ts"); // models import "../hardware"
    }
  }
  return out;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

/** Every cycle found by a depth-first walk, as a path that ends where it starts. */
function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (f: string): void => {
    state.set(f, "open");
    stack.push(f);
    for (const d of graph.get(f) ?? []) {
      if (state.get(d) === "open") found.push([...stack.slice(stack.indexOf(d)), d]);
      else if (!state.has(d)) visit(d);
    }
    stack.pop();
    state.set(f, "done");
  };
  for (const f of graph.keys()) if (!state.has(f)) visit(f);
  return found;
}

test("no cycle of runtime imports in emulator/, firmware/, drivers/, boards/, scripts/", () => {
  const files = ["emulator", "firmware", "drivers", "boards", "scripts"].flatMap((d) => tsFiles(d)).filter((f) => !f.endsWith(".d.ts"));
  const graph = new Map(files.map((f) => [normalize(f), runtimeImports(f)] as const));
  const edges = [...graph.values()].flat();
  assert.ok(edges.every((d) => graph.has(d)), `every import resolves to a file: ${edges.filter((d) => !graph.has(d)).join(", ")}`);
  assert.ok(graph.get(normalize("emulator/load-bundle.ts"))!.includes(normalize("emulator/scripts.ts")), "the walk sees runtime imports");
  assert.deepEqual(cycles(graph).map((c) => c.join(" -> ")), []);
});
