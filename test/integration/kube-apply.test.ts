// kube/apply.ts and kube/events.ts against a real API server: server-side apply with one field manager
// (force takes fields back), needsApply() agreeing with what apply would do, status apply, guarded
// deletes; Events aggregated into one series instead of piling up.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tenant } from '../../api/tenant.ts';
import {
  applyObject,
  applyStatus,
  createObject,
  deleteObject,
  FIELD_MANAGER,
  mergePatch,
  needsApply,
} from '../../kube/apply.ts';
import { isAlreadyExists, isConflict, KubeClient } from '../../kube/client.ts';
import { EventRecorder } from '../../kube/events.ts';
import { KINDS } from '../../kube/resources.ts';
import type { KubeObject } from '../../kube/types.ts';
import { testKubeConfig } from '../env/test-cluster.ts';
import { eventsAbout, eventually, uniqueName } from './tenant-fixtures.ts';

let client: KubeClient;
const namespace = uniqueName('apply');

type ConfigMap = KubeObject & { data?: Record<string, string> };
const cm = (name: string, data: Record<string, string>, labels: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace, labels },
  data,
});

beforeAll(async () => {
  client = new KubeClient({ kubeConfig: testKubeConfig() });
  await createObject(client, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
});

afterAll(() => client.close());

describe('server-side apply helpers', () => {
  it('applies as the tenantgate field manager, and needsApply() is false once applied', async () => {
    const want = cm('one', { a: '1' }, { team: 'x' });
    const stored = await applyObject<ConfigMap>(client, want);
    expect(stored.metadata?.managedFields?.map((m) => [m.manager, m.operation])).toEqual([
      [FIELD_MANAGER, 'Apply'],
    ]);
    expect(needsApply(want, stored)).toBe(false);
  });

  it('sees drift that apply would repair, and force-apply takes the field back', async () => {
    const want = cm('one', { a: '1' }, { team: 'x' });
    const edited = await mergePatch<ConfigMap>(
      client,
      want,
      { data: { a: 'changed' } },
      { fieldManager: 'someone' },
    );
    expect(needsApply(want, edited)).toBe(true);
    const repaired = await applyObject<ConfigMap>(client, want);
    expect(repaired.data).toEqual({ a: '1' });
    expect(needsApply(want, repaired)).toBe(false);
  });

  it('sees a label it applied before and no longer wants, which apply then removes', async () => {
    const stored = await applyObject<ConfigMap>(client, cm('two', { a: '1' }, { keep: 'y', drop: 'y' }));
    const want = cm('two', { a: '1' }, { keep: 'y' });
    expect(needsApply(want, stored)).toBe(true);
    const after = await applyObject<ConfigMap>(client, want);
    expect(after.metadata?.labels).toEqual({ keep: 'y' });
    expect(needsApply(want, after)).toBe(false);
  });

  it('leaves labels other managers own alone', async () => {
    const stored = await mergePatch<ConfigMap>(
      client,
      cm('two', {}),
      { metadata: { labels: { theirs: 'z' } } },
      { fieldManager: 'someone' },
    );
    expect(needsApply(cm('two', { a: '1' }, { keep: 'y' }), stored)).toBe(false);
  });

  it('applies a status subresource', async () => {
    const name = uniqueName('status');
    await createObject(client, {
      apiVersion: KINDS.Tenant.apiVersion,
      kind: 'Tenant',
      metadata: { name },
      spec: { namespaces: [{ name: uniqueName('ns') }] },
    });
    const ref = { apiVersion: KINDS.Tenant.apiVersion, kind: 'Tenant', metadata: { name } };
    const t = await applyStatus<Tenant>(client, ref, { observedGeneration: 1, routes: 3 });
    expect(t.status).toEqual({ observedGeneration: 1, routes: 3 });
    expect((t as KubeObject).metadata?.managedFields?.find((m) => m.subresource === 'status')?.manager).toBe(
      FIELD_MANAGER,
    );
    await deleteObject(client, ref);
  });

  it('creates only what does not exist, and deletes only the incarnation it names', async () => {
    const created = await createObject<ConfigMap>(client, cm('three', { a: '1' }));
    await expect(createObject(client, cm('three', {}))).rejects.toSatisfy(isAlreadyExists);
    await expect(
      deleteObject(client, cm('three', {}), { preconditions: { uid: 'not-its-uid' } }),
    ).rejects.toSatisfy(isConflict);
    expect(
      await deleteObject(client, cm('three', {}), { preconditions: { uid: created.metadata?.uid } }),
    ).toBe(true);
    expect(await deleteObject(client, cm('three', {}))).toBe(false);
  });
});

describe('EventRecorder', () => {
  it('aggregates repeats into one Event series and keeps different reasons apart', async () => {
    const target = await createObject<ConfigMap>(client, cm(uniqueName('evt'), {}));
    const recorder = new EventRecorder({
      client,
      reportingController: 'tenantgate.io/test',
      reportingInstance: 'test-1',
      flushIntervalMs: 50,
    });
    for (let i = 0; i < 3; i++)
      recorder.record(target, {
        type: 'Warning',
        reason: 'Trouble',
        action: 'Check',
        note: 'same thing again',
      });
    recorder.record(target, { type: 'Normal', reason: 'Fine', action: 'Check', note: 'all good' });
    await recorder.flush();
    const events = await eventually(
      async () => {
        const list = await eventsAbout(client, target.metadata!.uid!, namespace);
        return list.length === 2 && list.find((e) => e.reason === 'Trouble')?.series?.count === 3
          ? list
          : undefined;
      },
      { what: 'two Events, one with a series of 3' },
    );
    expect(events.map((e) => e.reason).sort()).toEqual(['Fine', 'Trouble']);
    expect(events.find((e) => e.reason === 'Fine')?.series).toBeUndefined();
    // a later repeat bumps the same series on the next flush
    recorder.record(target, {
      type: 'Warning',
      reason: 'Trouble',
      action: 'Check',
      note: 'same thing again',
    });
    await eventually(
      async () =>
        (await eventsAbout(client, target.metadata!.uid!, namespace)).find((e) => e.reason === 'Trouble')
          ?.series?.count === 4,
      {
        what: 'series count 4',
      },
    );
    await recorder.close();
  });
});
