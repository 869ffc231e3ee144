import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // brokers and browsers are slow to start on 2 cores: keep concurrency modest
    maxWorkers: 2,
    globalSetup: ["test/globalSetup.ts"],
  },
});
