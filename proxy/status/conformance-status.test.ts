// The statusExpectations of the Gateway API conformance corpus (../shared/conformance/gwapi, 239 checks
// over 59 tests) evaluated against computeStatus: route parents Accepted/ResolvedRefs with the spec's
// reasons, listener conditions and attachedRoutes, observedGeneration. The corpus is data only; objects
// get a generation (as the API server would give them) and a `steps` patch bumps it.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyze } from '../analysis/analyze.ts';
import type { KubeObject } from '../model/gateway-api.ts';
import { inputsFromObjects } from '../model/inputs.ts';
import { computeStatus, type GatewayApiStatus, type RouteParentStatus } from './compute-status.ts';

const CORPUS = path.resolve(import.meta.dirname, '../../../shared/conformance/gwapi');
const CONTROLLER = 'tenantgate.io/gateway-controller';

interface Expectation {
  check: string;
  route?: string;
  gateway?: string;
  parentRef?: { name: string };
  type?: string;
  status?: string;
  reason?: string | null;
  listeners?:
    | 'all'
    | string[]
    | {
        name: string;
        supportedKinds: { group?: string; kind: string }[];
        conditions: { type: string; status: string; reason: string | null }[];
        attachedRoutes: number;
      }[];
  conditions?: { type: string; status: string; reason: string | null }[];
  parents?: {
    parentRef: { group?: string; kind?: string; namespace?: string; name: string };
    conditions: { type: string; status: string; reason: string | null }[];
  }[];
}

interface CorpusTest {
  name: string;
  manifests: KubeObject[];
  statusExpectations?: Expectation[];
  steps?: { action: string; object: string; patch?: Record<string, unknown> }[];
}

/** The base Services every conformance run has (a patch step may switch a route to one of them). */
const baseServices = (
  JSON.parse(fs.readFileSync(path.join(CORPUS, 'base.json'), 'utf8')) as { manifests: KubeObject[] }
).manifests.filter((o) => o.kind === 'Service');

function objectsOf(test: CorpusTest, generation: number): KubeObject[] {
  const text = JSON.stringify(test.manifests).replaceAll('{GATEWAY_CLASS_NAME}', 'tenantgate');
  const objects = (JSON.parse(text) as KubeObject[]).filter((o) => o.kind !== 'Deployment');
  const have = new Set(objects.map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`));
  objects.push(
    ...structuredClone(baseServices).filter(
      (o) => !have.has(`Service/${o.metadata.namespace}/${o.metadata.name}`),
    ),
  );
  let octet = 10;
  const secrets = new Set<string>();
  for (const o of objects) {
    o.metadata.generation = generation;
    if (o.kind !== 'Gateway') continue;
    const spec = (
      o as unknown as {
        spec: {
          addresses: unknown[];
          listeners: { tls?: { certificateRefs?: { name: string; namespace?: string }[] } }[];
        };
      }
    ).spec;
    // like the harness (and upstream, where each Gateway gets its own IP): one address per Gateway
    spec.addresses = [{ type: 'IPAddress', value: `127.0.0.${octet++}` }];
    for (const l of spec.listeners)
      for (const ref of l.tls?.certificateRefs ?? [])
        secrets.add(`${ref.namespace ?? o.metadata.namespace}/${ref.name}`);
  }
  // the suite creates the listener certificates itself; status only needs them to exist as PEM
  const pem = (label: string) =>
    Buffer.from(`-----BEGIN ${label}-----\nAAAA\n-----END ${label}-----\n`).toString('base64');
  for (const key of secrets) {
    if (have.has(`Secret/${key}`)) continue;
    const [namespace, name] = key.split('/') as [string, string];
    objects.push({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name, namespace },
      type: 'kubernetes.io/tls',
      data: { 'tls.crt': pem('CERTIFICATE'), 'tls.key': pem('PRIVATE KEY') },
    } as KubeObject);
  }
  objects.push({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'GatewayClass',
    metadata: { name: 'tenantgate', generation: 1 },
    spec: { controllerName: CONTROLLER },
  } as KubeObject);
  return objects;
}

function statusOf(objects: KubeObject[]): GatewayApiStatus {
  const { inputs } = inputsFromObjects(objects);
  return computeStatus(analyze(inputs, { controllerName: CONTROLLER, defaultAddress: '0.0.0.0' }), {
    controllerName: CONTROLLER,
    now: '2026-01-01T00:00:00Z',
  });
}

const split = (key: string) => {
  const [namespace, name] = key.split('/') as [string, string];
  return { namespace, name };
};

function routeParents(status: GatewayApiStatus, key: string): RouteParentStatus[] | undefined {
  const { namespace, name } = split(key);
  return status.httpRoutes.find((r) => r.namespace === namespace && r.name === name)?.status.parents;
}

function check(e: Expectation, status: GatewayApiStatus, generation: number): string | undefined {
  const condOk = (
    conds: { type: string; status: string; reason: string }[],
    want: { type: string; status: string; reason: string | null },
  ) => {
    const c = conds.find((x) => x.type === want.type);
    return c !== undefined && c.status === want.status && (want.reason === null || c.reason === want.reason);
  };
  switch (e.check) {
    case 'RouteParentCondition': {
      const parents = routeParents(status, e.route!) ?? [];
      const gw = split(e.parentRef!.name);
      const p = parents.find(
        (x) => x.parentRef.name === gw.name && (x.parentRef.namespace ?? '') === gw.namespace,
      );
      if (!p) return `no parent ${e.parentRef!.name} in ${JSON.stringify(parents)}`;
      if (p.conditions.some((c) => c.observedGeneration !== generation))
        return 'observedGeneration is not the latest';
      return condOk(p.conditions, { type: e.type!, status: e.status!, reason: e.reason ?? null })
        ? undefined
        : `conditions ${JSON.stringify(p.conditions)}`;
    }
    case 'RouteNoAcceptedParents': {
      const parents = routeParents(status, e.route!) ?? [];
      const ok =
        parents.length === 0 ||
        (parents.length === 1 &&
          parents[0]!.conditions.some((c) => c.type === 'Accepted' && c.status === 'False'));
      return ok ? undefined : `parents ${JSON.stringify(parents)}`;
    }
    case 'RouteConditionsObservedGenerationLatest': {
      const parents = routeParents(status, e.route!) ?? [];
      return parents.length &&
        parents.every((p) => p.conditions.every((c) => c.observedGeneration === generation))
        ? undefined
        : 'stale observedGeneration';
    }
    case 'RouteParents': {
      const parents = routeParents(status, e.route!) ?? [];
      if (parents.length !== e.parents!.length)
        return `want ${e.parents!.length} parents, got ${JSON.stringify(parents)}`;
      for (const want of e.parents!) {
        const p = parents.find(
          (x) =>
            x.parentRef.name === want.parentRef.name &&
            x.parentRef.namespace === want.parentRef.namespace &&
            x.parentRef.kind === (want.parentRef.kind ?? 'Gateway'),
        );
        if (!p) return `no parent ${JSON.stringify(want.parentRef)}`;
        if (p.controllerName !== CONTROLLER) return 'controllerName';
        for (const c of want.conditions)
          if (!condOk(p.conditions, c))
            return `condition ${JSON.stringify(c)} not in ${JSON.stringify(p.conditions)}`;
      }
      return undefined;
    }
    case 'GatewayListenersConditions':
    case 'GatewayZeroAttachedRoutes':
    case 'GatewayListenerStatus': {
      const { namespace, name } = split(e.gateway!);
      const gw = status.gateways.find((g) => g.namespace === namespace && g.name === name);
      if (!gw) return `no status for Gateway ${e.gateway}`;
      const listeners = gw.status.listeners;
      if (e.check === 'GatewayZeroAttachedRoutes') {
        return listeners.length === 0 || (listeners.length === 1 && listeners[0]!.attachedRoutes === 0)
          ? undefined
          : `listeners ${JSON.stringify(listeners)}`;
      }
      if (e.check === 'GatewayListenersConditions') {
        if (!gw.status.addresses.length) return 'no addresses';
        const names = e.listeners === 'all' ? listeners.map((l) => l.name) : (e.listeners as string[]);
        for (const n of names) {
          const l = listeners.find((x) => x.name === n);
          if (!l) return `no listener ${n}`;
          for (const c of e.conditions!)
            if (!condOk(l.conditions, c))
              return `listener ${n}: ${JSON.stringify(c)} not in ${JSON.stringify(l.conditions)}`;
        }
        return undefined;
      }
      const wanted = e.listeners as Exclude<Expectation['listeners'], 'all' | string[] | undefined>;
      if (listeners.length !== wanted.length)
        return `want ${wanted.length} listeners, got ${listeners.length}`;
      for (const w of wanted) {
        const l = listeners.find((x) => x.name === w.name);
        if (!l) return `no listener ${w.name}`;
        if (l.attachedRoutes !== w.attachedRoutes)
          return `listener ${w.name}: attachedRoutes ${l.attachedRoutes}, want ${w.attachedRoutes}`;
        for (const k of w.supportedKinds)
          if (
            !l.supportedKinds.some(
              (x) => x.kind === k.kind && x.group === (k.group ?? 'gateway.networking.k8s.io'),
            )
          )
            return `listener ${w.name}: kind ${k.kind} not supported`;
        for (const c of w.conditions)
          if (!condOk(l.conditions, c)) return `listener ${w.name}: ${JSON.stringify(c)}`;
      }
      return undefined;
    }
    default:
      return `unknown check ${e.check}`;
  }
}

function applyPatch(objects: KubeObject[], step: NonNullable<CorpusTest['steps']>[number]): void {
  const [kind, namespace, name] = step.object.split('/');
  const obj = objects.find(
    (o) => o.kind === kind && o.metadata.namespace === namespace && o.metadata.name === name,
  ) as unknown as Record<string, unknown>;
  for (const [p, value] of Object.entries(step.patch ?? {})) {
    const tokens = p
      .split('.')
      .flatMap((part) => part.split(/[[\]]/).filter(Boolean))
      .map((t) => (/^\d+$/.test(t) ? Number(t) : t));
    let cur = obj as Record<string | number, unknown>;
    for (const t of tokens.slice(0, -1)) cur = cur[t] as Record<string | number, unknown>;
    cur[tokens[tokens.length - 1]!] = value;
  }
  (obj.metadata as { generation: number }).generation += 1;
}

const index = JSON.parse(fs.readFileSync(path.join(CORPUS, 'index.json'), 'utf8')) as {
  tests: { name: string; file: string }[];
};
const tests = index.tests.map(
  (t) => JSON.parse(fs.readFileSync(path.join(CORPUS, t.file), 'utf8')) as CorpusTest,
);

describe('computeStatus against the conformance corpus status expectations', () => {
  it('covers every corpus test', () => {
    expect(tests.length).toBe(59);
    expect(tests.reduce((n, t) => n + (t.statusExpectations?.length ?? 0), 0)).toBe(239);
  });

  for (const test of tests) {
    it(test.name, () => {
      const objects = objectsOf(test, 1);
      let status = statusOf(objects);
      let generation = 1;
      const failures: string[] = [];
      for (const e of test.statusExpectations ?? []) {
        const problem = check(e, status, generation);
        if (problem) failures.push(`${e.check} ${e.route ?? e.gateway}: ${problem}`);
      }
      // a patch step bumps the generation: the status must follow it
      for (const step of test.steps ?? []) {
        if (step.action !== 'patch') continue;
        applyPatch(objects, step);
        status = statusOf(objects);
        generation = 2;
        for (const e of (test.statusExpectations ?? []).filter((x) =>
          x.route?.endsWith(step.object.split('/')[2]!),
        )) {
          const problem = check(e, status, generation);
          if (problem) failures.push(`after ${step.action}: ${e.check}: ${problem}`);
        }
      }
      expect(failures).toEqual([]);
    });
  }
});
