// Golden tests, in the style of Envoy Gateway's: every proxy/testdata/golden/<case>.in.yaml (plus the
// shared _base.yaml) goes through the reload's own stages — snapshot, analysis, IR + route status +
// policy status — and the IR and the status must equal <case>.ir.json and <case>.status.json. After an
// intended change, regenerate them with `make golden` (UPDATE_GOLDEN=1) and review the diff.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GATEWAY_CONTROLLER_NAME } from '../api/common.ts';
import { inputsFromObjects } from './model/inputs.ts';
import { PolicyRuntime } from './policy-runtime.ts';
import { resolvePolicySettings } from './policy-settings.ts';
import { analysisStage, irStage } from './reload-stages.ts';
import { parseManifests } from './sources/read-manifests.ts';
import { materialize } from './table/materialize.ts';

const DIR = path.join(import.meta.dirname, 'testdata', 'golden');
const UPDATE = process.env.UPDATE_GOLDEN === '1';
const NOW = '2026-01-01T00:00:00Z';
const base = parseManifests(fs.readFileSync(path.join(DIR, '_base.yaml'), 'utf8'), '_base.yaml');
const cases = fs
  .readdirSync(DIR)
  .filter((f) => f.endsWith('.in.yaml'))
  .map((f) => f.slice(0, -'.in.yaml'.length))
  .sort();

const runtime = new PolicyRuntime({ settings: resolvePolicySettings({}), onRulesChanged: () => undefined });
afterAll(() => runtime.close());

async function stages(name: string) {
  const file = `${name}.in.yaml`;
  const objects = [...base, ...parseManifests(fs.readFileSync(path.join(DIR, file), 'utf8'), file)];
  const { inputs } = inputsFromObjects(objects);
  await runtime.prepare(inputs);
  const policies = runtime.compile(inputs);
  const options = { controllerName: GATEWAY_CONTROLLER_NAME, defaultAddress: '0.0.0.0' };
  const analysis = analysisStage(inputs, options);
  return { policies, out: irStage(inputs, analysis, { ...options, generation: 1, now: NOW, policies }) };
}

function golden(file: string, value: unknown): void {
  const text = `${JSON.stringify(value, null, 2)}\n`;
  const where = path.join(DIR, file);
  if (UPDATE) fs.writeFileSync(where, text);
  expect(fs.existsSync(where), `${file} is missing: run make golden`).toBe(true);
  expect(JSON.parse(text), `${file} differs: review, then make golden`).toEqual(
    JSON.parse(fs.readFileSync(where, 'utf8')),
  );
}

describe('golden: manifests → IR and status', () => {
  it('has the main cases', () => {
    expect(cases).toEqual(expect.arrayContaining(['errors', 'filters', 'grpc', 'policies', 'routes']));
  });

  for (const name of cases) {
    it(name, async () => {
      const { out } = await stages(name);
      golden(`${name}.ir.json`, out.ir);
      golden(`${name}.status.json`, {
        warnings: out.warnings,
        status: out.status,
        policyStatus: out.policyStatus ?? null,
      });
    });
  }
});

describe('the IR is plain data', () => {
  for (const name of cases) {
    it(`${name}: survives structuredClone and a JSON round trip unchanged`, async () => {
      const { out, policies } = await stages(name);
      const cloned = structuredClone(out.ir);
      const json = JSON.parse(JSON.stringify(out.ir)) as unknown;
      // strict: no undefined-valued keys, no class instances, no Maps or Sets that JSON would flatten
      expect(cloned).toStrictEqual(out.ir);
      expect(json).toStrictEqual(out.ir);
      // and a table materialised from the copy routes like one from the original
      const a = materialize(out.ir, { attachPolicies: policies.attach });
      const b = materialize(json as typeof out.ir, { attachPolicies: policies.attach });
      expect([...b.binds.keys()]).toEqual([...a.binds.keys()]);
      const rules = (t: typeof a) =>
        [...t.binds.values()].flatMap((bind) =>
          bind.listeners.flatMap((l) =>
            [...l.exactHosts.values(), ...(l.anyHost ? [l.anyHost] : [])].flatMap((g) =>
              [...g.prefix.values()]
                .flat()
                .map(
                  (e) =>
                    `${e.rule.routeLabel}#${e.rule.ruleIndex}:${e.rule.policies.map((p) => p.name).join(',')}`,
                ),
            ),
          ),
        );
      expect(rules(b)).toEqual(rules(a));
    });
  }
});
