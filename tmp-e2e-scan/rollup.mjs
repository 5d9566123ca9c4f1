import typescript from "@rollup/plugin-typescript";
import terser from "@rollup/plugin-terser";
export default {
  input: "tmp-e2e-scan/main.ts",
  output: { file: "tmp-e2e-scan/dist/e2e.js", format: "iife", sourcemap: true,
    plugins: [terser({ ecma: 2015, module: false, compress: { passes: 2 }, format: { comments: false } })] },
  plugins: [typescript({ tsconfig: "tmp-e2e-scan/tsconfig.json", noEmitOnError: true })],
};
