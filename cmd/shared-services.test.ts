import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { PolicyEngine } from '../policies/engine.ts';
import {
  buildSharedServices,
  OPERATOR_LEASE,
  planSharedServices,
  PROXY_STATUS_LEASE,
  type ComponentName,
  type SharedServices,
} from './shared-services.ts';

const ALL_ORDERS: ComponentName[][] = [
  ['operator', 'webhook', 'proxy'],
  ['operator', 'proxy', 'webhook'],
  ['webhook', 'operator', 'proxy'],
  ['webhook', 'proxy', 'operator'],
  ['proxy', 'operator', 'webhook'],
  ['proxy', 'webhook', 'operator'],
];

/** A cluster nobody answers at: building the shared services must not need one. */
function unreachableKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:1', skipTLSVerify: true }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

describe('planSharedServices', () => {
  it('depends on the set of components, not their order', () => {
    for (const order of ALL_ORDERS)
      expect(planSharedServices(order), order.join(',')).toEqual({
        statusLease: OPERATOR_LEASE,
        sharedPolicyEngine: true,
      });
  });

  it("uses the operator's Lease when the operator runs, the proxies' own only without it", () => {
    expect(planSharedServices(['proxy', 'operator']).statusLease).toBe(OPERATOR_LEASE);
    expect(planSharedServices(['proxy']).statusLease).toBe(PROXY_STATUS_LEASE);
    expect(planSharedServices(['proxy', 'webhook']).statusLease).toBe(PROXY_STATUS_LEASE);
    expect(planSharedServices(['webhook']).statusLease).toBeUndefined();
  });

  it('shares one policy engine when the webhook runs; a proxy alone loads its own lazily', () => {
    expect(planSharedServices(['proxy', 'webhook']).sharedPolicyEngine).toBe(true);
    expect(planSharedServices(['proxy']).sharedPolicyEngine).toBe(false);
    expect(planSharedServices(['operator']).sharedPolicyEngine).toBe(false);
  });
});

describe('buildSharedServices', () => {
  const built: SharedServices[] = [];
  afterEach(async () => {
    for (const s of built.splice(0)) await s.stop();
  });

  it('builds the same services for proxy,operator,webhook and operator,webhook,proxy', async () => {
    const summaries = [];
    for (const order of [
      ['proxy', 'operator', 'webhook'],
      ['operator', 'webhook', 'proxy'],
    ] as ComponentName[][]) {
      const shared = await buildSharedServices(order, {
        kubeConfig: unreachableKubeConfig(),
        adminAddress: '127.0.0.1:0',
        identity: 'pod-a',
      });
      built.push(shared);
      expect(shared.engine).toBeInstanceOf(PolicyEngine);
      summaries.push({
        plan: shared.plan,
        lease: shared.leadership.lease,
        identity: shared.leadership.identity,
        engine: shared.engine instanceof PolicyEngine,
        leaderBeforeOperator: shared.leadership.isLeader(),
      });
    }
    expect(summaries[0]).toEqual({
      plan: { statusLease: OPERATOR_LEASE, sharedPolicyEngine: true },
      lease: OPERATOR_LEASE,
      identity: 'pod-a',
      engine: true,
      leaderBeforeOperator: false,
    });
    expect(summaries[1]).toEqual(summaries[0]);
  });

  it("with the operator, status follows the operator's election once it has started", async () => {
    const shared = await buildSharedServices(['proxy', 'operator'], {
      kubeConfig: unreachableKubeConfig(),
      adminAddress: '127.0.0.1:0',
    });
    built.push(shared);
    expect(shared.engine).toBeUndefined();
    expect(shared.leadership.isLeader()).toBe(false); // the proxy started first: it waits, no Lease of its own
    let leading = true;
    shared.leadership.operatorStarted({ isLeader: () => leading });
    expect(shared.leadership.isLeader()).toBe(true);
    leading = false;
    expect(shared.leadership.isLeader()).toBe(false);
  });

  it('takes one identity: the given one, else $TENANTGATE_OPERATOR_IDENTITY', async () => {
    const before = process.env.TENANTGATE_OPERATOR_IDENTITY;
    process.env.TENANTGATE_OPERATOR_IDENTITY = 'from-env';
    try {
      const shared = await buildSharedServices(['operator'], {
        kubeConfig: unreachableKubeConfig(),
        adminAddress: '127.0.0.1:0',
      });
      built.push(shared);
      expect(shared.leadership.identity).toBe('from-env');
    } finally {
      if (before === undefined) delete process.env.TENANTGATE_OPERATOR_IDENTITY;
      else process.env.TENANTGATE_OPERATOR_IDENTITY = before;
    }
  });
});
