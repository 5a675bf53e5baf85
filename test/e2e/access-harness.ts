// Shared setup of the access end-to-end tests: one real policy engine per test file (the bundle `make
// policies` built) and servers on the RequestPolicy seam for route `api` of one namespace, closed after
// the file.
import { afterAll, beforeAll } from 'vitest';
import { PolicyEngine } from '../../policies/engine.ts';
import { serveOnSeam, point, type SeamServer } from '../helpers/access.ts';
import {
  compileAttachedPolicies,
  type AttachedPolicies,
  type AttachedPolicyInputs,
} from '../../proxy/attached-policies.ts';
import { LocalStore } from '../../proxy/ratelimit/local-store.ts';
import type { RateLimitStore } from '../../proxy/ratelimit/store.ts';
import type { AttachPolicies } from '../../proxy/request-policy.ts';

export interface SeamHarness {
  /** the real engine, created in beforeAll */
  readonly engine: PolicyEngine;
  /** Compiles a snapshot (missing lists are empty) on the engine; a fresh local store unless given one. */
  compile(snapshot: Partial<AttachedPolicyInputs>, store?: RateLimitStore): AttachedPolicies;
  /** A seam server for route `api` of `ns` that reads `hook()` per request (swapping it is a reload). */
  serve(ns: string, hook: () => AttachPolicies): Promise<SeamServer>;
}

/** Registers the file's beforeAll/afterAll; call it at the top level of a test file. */
export function seamHarness(): SeamHarness {
  let engine: PolicyEngine | undefined;
  const servers: SeamServer[] = [];
  beforeAll(async () => {
    engine = await PolicyEngine.create();
  });
  afterAll(async () => {
    for (const s of servers) await s.close();
  });
  const harness: SeamHarness = {
    get engine() {
      if (!engine) throw new Error('the policy engine is created in beforeAll');
      return engine;
    },
    compile: (snapshot, store = new LocalStore()) =>
      compileAttachedPolicies(
        { accessPolicies: [], rateLimitPolicies: [], secrets: [], namespaces: [], ...snapshot },
        { engine: harness.engine, rateLimitStore: store },
      ),
    async serve(ns, hook) {
      const server = await serveOnSeam({ hook, pointFor: () => point({ routeNamespace: ns }) });
      servers.push(server);
      return server;
    },
  };
  return harness;
}
