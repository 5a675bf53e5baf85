// Three projects: fast unit tests beside the code, end-to-end tests through real processes, and
// integration tests that share one real
// kube-apiserver + etcd started by the global setup (test/env/global-setup.ts).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    pool: 'forks',
    maxWorkers: 2, // these machines have 2 cores
    projects: [
      {
        test: {
          name: 'unit',
          include: ['{api,kube,controllers,webhooks,policies,proxy,lib,cmd,test/env}/**/*.test.ts'],
          testTimeout: 20_000,
        },
      },
      {
        // real HTTP through the proxy, real redis-server; no cluster needed
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/env/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
