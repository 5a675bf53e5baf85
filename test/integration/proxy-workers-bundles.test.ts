// `--workers 2` in cluster mode with a platform team's access rule in a ConfigMap bundle. Workers open no
// watch, so the primary relays the ConfigMap to them (proxy/workers/configmap-relay.ts). The test tries
// the ways a worker could evaluate something else than the primary compiled against: a request on either
// worker (fresh connections spread by SO_REUSEPORT), a bundle edited while serving, and a worker killed
// and replaced after the edit (the replacement must start from the current bundle, not from nothing).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyObject, createObject, replaceObject } from '../../kube/apply.ts';
import { KubeClient } from '../../kube/client.ts';
import { InformerFactory } from '../../kube/informer-factory.ts';
import { KINDS } from '../../kube/resources.ts';
import type { RunningProxy } from '../../proxy/index.ts';
import { testKubeConfig } from '../env/test-cluster.ts';
import { eventually, freePort, request, type EchoBackend } from '../e2e/proxy-harness.ts';
import { buildBundle } from '../helpers/policies.ts';
import {
  deleteGatewayObjects,
  guardedRouteObjects,
  startClusterProxy,
  startLoopbackEcho,
} from './cluster-proxy-fixtures.ts';
import { uniqueName } from './tenant-fixtures.ts';

const ns = uniqueName('workers-bundles');
const className = uniqueName('tenantgate');
const CONTROLLER = `tenantgate.io/${uniqueName('workers-bundles')}`;
const FRESH_CONNECTIONS = 12; // all on one worker: p = 2^-11

/** A bundle whose rule `team-gate` admits only requests with `X-Team: <team>`. */
function teamGate(team: string): Buffer {
  return buildBundle(
    {
      'gate.rego': `package tenantgate.access
catalog := {"team-gate": {"entrypoint": "tenantgate/access/gate", "description": "one team only", "schema": {"type": "object"}}}
default gate := {"allow": false, "status": 403, "reason": "only team ${team}"}
gate := {"allow": true, "status": 200, "reason": "team ${team}"} if input.headers["x-team"] == "${team}"`,
    },
    ['tenantgate/access/catalog', 'tenantgate/access/gate'],
  );
}

const configMap = (bytes: Buffer, resourceVersion?: string) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'team-rules', namespace: ns, ...(resourceVersion ? { resourceVersion } : {}) },
  binaryData: { 'bundle.tar.gz': bytes.toString('base64') },
});

let client: KubeClient;
let informers: InformerFactory;
let backend: EchoBackend;
let proxy: RunningProxy | undefined;
let port: number;

/** The statuses of FRESH_CONNECTIONS requests, each on a new connection, sent as `team`. */
async function statusesAs(team: string): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < FRESH_CONNECTIONS; i++) {
    // a connection refused or reset (a worker being replaced) counts as 0
    const r = await request(port, '/', { host: 'any.test', headers: { 'x-team': team } }).catch(
      () => undefined,
    );
    statuses.push(r?.status ?? 0);
  }
  return statuses;
}

const all = (status: number) => Array.from({ length: FRESH_CONNECTIONS }, () => status);

beforeAll(async () => {
  client = new KubeClient({ kubeConfig: testKubeConfig() });
  informers = new InformerFactory({ client });
  informers.start();
  backend = await startLoopbackEcho('workers-bundles-backend');
  port = await freePort();
  await createObject(client, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  await createObject(client, configMap(teamGate('blue')));
  const objects = guardedRouteObjects({
    className,
    controllerName: CONTROLLER,
    namespace: ns,
    port,
    backend,
    policy: { name: 'team-only', rule: 'team-gate', parameters: {} },
  });
  for (const o of objects) await applyObject(client, o as never);
  const dir = mkdtempSync(join(tmpdir(), 'tg-workers-bundles-'));
  const policyConfigPath = join(dir, 'policy-config.yaml');
  writeFileSync(
    policyConfigPath,
    `bundles:\n  - name: team\n    configMap: {namespace: ${ns}, name: team-rules, key: bundle.tar.gz}\n`,
  );
  proxy = await startClusterProxy({
    source: { informers },
    controllerName: CONTROLLER,
    workers: 2,
    policies: { policyConfigPath },
  });
}, 120_000);

afterAll(async () => {
  await proxy?.stop();
  await backend?.close();
  informers?.stop();
  await deleteGatewayObjects(client, ns, className);
  await client?.close();
});

describe('proxy workers and policy bundles from a ConfigMap', () => {
  it('evaluates the ConfigMap bundle’s rule in every worker', async () => {
    expect(proxy?.workerPids).toHaveLength(2);
    await eventually(async () => (await statusesAs('blue')).every((s) => s === 200), 30_000);
    expect(await statusesAs('red')).toEqual(all(403));
    const refused = await request(port, '/', { host: 'any.test', headers: { 'x-team': 'red' } });
    expect(refused.body).toContain('only team blue');
  });

  it('follows an edit of the ConfigMap in every worker, and a replaced worker starts from the edit', async () => {
    const current = await client.get(KINDS.ConfigMap, { name: 'team-rules', namespace: ns });
    await replaceObject(client, configMap(teamGate('green'), current!.metadata!.resourceVersion));
    await eventually(async () => (await statusesAs('green')).every((s) => s === 200), 30_000);
    expect(await statusesAs('blue')).toEqual(all(403));

    const [victim] = proxy!.workerPids;
    process.kill(victim!, 'SIGKILL');
    await eventually(() => proxy!.workerPids.length === 2 && !proxy!.workerPids.includes(victim!), 30_000);
    // the replacement may take a moment to apply its first table; until then the kernel may still hand it
    // connections it answers with nothing, so wait for every fresh connection to be served, then check
    await eventually(async () => (await statusesAs('green')).every((s) => s === 200), 30_000);
    expect(await statusesAs('blue')).toEqual(all(403));
  });
});
