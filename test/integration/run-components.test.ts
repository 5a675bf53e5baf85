// `tenantgate run` with all three components, named in two orders, against a real API server: the shared
// services do not depend on the order. Whichever component comes first, the process holds one Lease (the
// operator's, which also decides who writes proxy status) under one identity, takes no proxy-status Lease
// of its own, and loads the built-in policy bundle once (one engine, which the webhook and proxy share).
//
// This file starts a control plane of its own: the proxy in `run` serves every Gateway of tenantgate's
// GatewayClasses in the cluster, and on the run's shared API server it would bind the listeners of the
// Gateways other test files serve in-process, and write their status.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeClient } from '../../kube/client.ts';
import { startControlPlane, type ControlPlane } from '../../kube/envtest/control-plane.ts';
import { crdPaths } from '../../kube/envtest/paths.ts';
import { freePorts } from '../../kube/envtest/ports.ts';
import { KINDS } from '../../kube/resources.ts';
import type { Lease } from '../../kube/lease.ts';
import { ephemeralCertificates } from '../../webhooks/certs.ts';
import { spawnOperatorProcess } from '../env/operator-process.ts';
import { eventually, uniqueName } from './tenant-fixtures.ts';

/**
 * How long the operator has held its Lease, by the Lease's own clock. A second elector started with the
 * process retries every 2 s (kube/lease.ts), so once the operator has held its Lease (which it takes only
 * after creating the namespace) for several retry periods, a proxy-status Lease would exist by now.
 */
const heldMs = (l: Lease) => Date.parse(l.spec?.renewTime ?? '') - Date.parse(l.spec?.acquireTime ?? '');
const SEVERAL_RETRY_PERIODS_MS = 6_000;

let controlPlane: ControlPlane;
let client: KubeClient;
let dir: string;

beforeAll(async () => {
  controlPlane = await startControlPlane({ crdPaths: crdPaths() });
  client = new KubeClient({ kubeConfig: controlPlane.kubeConfig() });
  dir = mkdtempSync(join(tmpdir(), 'tg-run-components-'));
  // the webhook serves these (cert-manager style) and so does not register itself with the API server
  const certs = await ephemeralCertificates(['127.0.0.1', 'localhost']);
  writeFileSync(join(dir, 'tls.crt'), certs.certPem);
  writeFileSync(join(dir, 'tls.key'), certs.keyPem);
  writeFileSync(join(dir, 'ca.crt'), certs.caBundlePem);
}, 120_000);

afterAll(async () => {
  await client?.close();
  await controlPlane?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs `tenantgate run --components <order>` until ready; what it holds, then its exit code after SIGTERM. */
async function runAndInspect(order: string) {
  const namespace = uniqueName('tg-run');
  const identity = uniqueName('replica');
  const [webhookPort] = await freePorts(1);
  const { proc, adminAddress } = await spawnOperatorProcess({
    kubeconfigPath: controlPlane.kubeconfigPath,
    components: order,
    env: {
      TENANTGATE_NAMESPACE: namespace,
      TENANTGATE_OPERATOR_IDENTITY: identity,
      TENANTGATE_WEBHOOK_ADDRESS: `127.0.0.1:${webhookPort}`,
      TENANTGATE_WEBHOOK_CERT_DIR: dir,
      TENANTGATE_AUDIT_LOG: join(dir, `audit-${namespace}.jsonl`),
      TENANTGATE_LOG_LEVEL: 'info',
    },
    stderr: 'pipe',
  });
  let stderr = '';
  proc.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-20_000);
  });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  try {
    await eventually(
      async () => (await fetch(`http://${adminAddress}/readyz`, { signal: AbortSignal.timeout(2_000) })).ok,
      { what: `tenantgate run --components ${order} ready`, timeoutMs: 90_000 },
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${stderr}`);
    });
    const operatorLease = await eventually(
      async () => {
        const lease = await client.get<Lease>(KINDS.Lease, { name: 'tenantgate-operator', namespace });
        return lease?.spec?.holderIdentity && heldMs(lease) >= SEVERAL_RETRY_PERIODS_MS ? lease : undefined;
      },
      { what: `the operator's Lease in ${namespace}, held for ${SEVERAL_RETRY_PERIODS_MS} ms` },
    );
    const leases = (await client.list<Lease>(KINDS.Lease, { namespace })).items;
    const metrics = await (await fetch(`http://${adminAddress}/metrics`)).text();
    const builtinLoads = /^tenantgate_policy_bundle_loads_total\{[^}]*bundle="builtin"[^}]*\} (\d+)/m.exec(
      metrics,
    );
    return {
      holder:
        operatorLease.spec?.holderIdentity === identity ? 'this process' : operatorLease.spec?.holderIdentity,
      leases: leases.map((l) => l.metadata?.name).sort(),
      builtinBundleLoads: builtinLoads ? Number(builtinLoads[1]) : 0,
    };
  } finally {
    proc.kill('SIGTERM');
    await exited;
  }
}

describe('tenantgate run --components in any order', () => {
  it('builds the same shared services for proxy,operator,webhook and operator,webhook,proxy', async () => {
    const proxyFirst = await runAndInspect('proxy,operator,webhook');
    const operatorFirst = await runAndInspect('operator,webhook,proxy');
    expect(proxyFirst).toEqual({
      holder: 'this process',
      leases: ['tenantgate-operator'], // no tenantgate-proxy-status: the operator's leader writes status
      builtinBundleLoads: 1,
    });
    expect(operatorFirst).toEqual(proxyFirst);
  }, 240_000);
});
