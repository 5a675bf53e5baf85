import { describe, expect, it } from 'vitest';
import type { EventInput, EventRecorder } from '../kube/events.ts';
import type { KubeObject } from '../kube/types.ts';
import type { Decision } from '../policies/types.ts';
import { routeRequest } from '../test/helpers/admission.ts';
import { ViolationEvents } from './violation-events.ts';

function recorder() {
  const recorded: { regarding: KubeObject; input: EventInput }[] = [];
  const fake = {
    record: (regarding: KubeObject, input: EventInput) => void recorded.push({ regarding, input }),
  };
  return { recorded, events: new ViolationEvents(fake as unknown as EventRecorder) };
}

const deny: Decision = { policy: 'route-hostnames', message: 'bad — fix', action: 'deny', bundle: 'builtin' };
const warn: Decision = {
  policy: 'route-count',
  message: 'many — delete one',
  action: 'warn',
  bundle: 'builtin',
};

describe('PolicyViolation Events', () => {
  it('records a Warning about the object, in its namespace, naming user, change and violations', () => {
    const { recorded, events } = recorder();
    events.record(routeRequest(), [deny, warn], 'acme');
    expect(recorded).toEqual([
      {
        regarding: {
          apiVersion: 'gateway.networking.k8s.io/v1',
          kind: 'HTTPRoute',
          metadata: { name: 'shop', namespace: 'acme-web' },
        },
        input: {
          type: 'Warning',
          reason: 'PolicyViolation',
          action: 'Deny',
          note: 'alice: CREATE HTTPRoute acme-web/shop refused: [route-hostnames] bad — fix; [route-count] many — delete one',
        },
      },
    ]);
  });

  it('puts a Namespace change into that namespace and a Tenant change on the Tenant', () => {
    const { recorded, events } = recorder();
    events.record(
      {
        ...routeRequest(),
        kind: { group: '', version: 'v1', kind: 'Namespace' },
        namespace: '',
        name: 'acme-web',
        operation: 'UPDATE',
      },
      [warn],
      'acme',
    );
    events.record(
      {
        ...routeRequest(),
        kind: { group: 'tenantgate.io', version: 'v1alpha1', kind: 'Tenant' },
        namespace: '',
        name: 'acme',
      },
      [deny],
      'acme',
    );
    expect(recorded.map((r) => [r.regarding.kind, r.regarding.metadata, r.input.action])).toEqual([
      ['Namespace', { name: 'acme-web', namespace: 'acme-web' }, 'Warn'],
      ['Tenant', { name: 'acme' }, 'Deny'],
    ]);
  });

  it('records nothing for dry-run requests', () => {
    const { recorded, events } = recorder();
    events.record(routeRequest(undefined, { dryRun: true }), [deny], 'acme');
    expect(recorded).toEqual([]);
  });
});
