// One minified bundle per board: dist/<board>.js with its source map.
// Every board folder with a main.ts is a target; BOARD=name builds just one.
import { readdirSync, existsSync } from "node:fs";
import typescript from "@rollup/plugin-typescript";
import terser from "@rollup/plugin-terser";

const only = process.env.BOARD;
const boards = readdirSync("boards").filter(
  (name) => existsSync(`boards/${name}/main.ts`) && (!only || only === name),
);
if (boards.length === 0) throw new Error(`no board named ${only} (boards/<name>/main.ts)`);

export default boards.map((board) => ({
  input: `boards/${board}/main.ts`,
  output: {
    file: `dist/${board}.js`,
    // iife: every name stays local to one function, so minified names can
    // never overwrite an Espruino global such as E or a pin name.
    format: "iife",
    sourcemap: true,
    plugins: [
      terser({
        ecma: 2015,
        module: false,
        compress: { passes: 2 },
        format: { comments: false },
      }),
    ],
  },
  plugins: [typescript({ tsconfig: "tsconfig.json", noEmitOnError: true })],
  onwarn(warning) {
    throw new Error(`rollup: ${warning.message}`);
  },
}));
