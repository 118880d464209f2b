import { defineConfig } from "vitest/config";

// isolated-vm 5 on Node 20 needs --no-node-snapshot in every process that
// loads it, so tests run in forked workers started with that flag.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "channels/**/*.test.ts"],
    pool: "forks",
    execArgv: ["--no-node-snapshot"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
