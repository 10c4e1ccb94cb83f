// Lint rules: the recommended sets of ESLint and typescript-eslint; type checking itself is `tsc`.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", ".venv/", "workspace/", ".stryker-tmp/", "reports/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: "readonly", console: "readonly" } },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    // Every test file's top-level describe/test names its timeout (subtests inherit it), so a
    // regression that hangs fails instead, also when a file is run on its own without --test-timeout.
    files: ["test/**/*.test.ts"],
    rules: {
      "no-restricted-syntax": [
        "error",
        {
          selector: "Program > ExpressionStatement > CallExpression[callee.name=/^(describe|test|it)$/]:not([arguments.1.type='ObjectExpression'])",
          message: "a top-level describe/test takes an options object with a timeout: describe(name, { timeout: ms }, fn)",
        },
        {
          selector: "Program > ExpressionStatement > CallExpression[callee.name=/^(describe|test|it)$/] > ObjectExpression:not(:has(> Property[key.name='timeout']))",
          message: "a top-level describe/test names its timeout: { timeout: ms } (10× its measured time)",
        },
      ],
    },
  },
  { files: ["**/*.cjs"], languageOptions: { sourceType: "commonjs", globals: { module: "writable", require: "readonly" } } },
);
