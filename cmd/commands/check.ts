// `tenantgate check`: the webhook's decisions, offline. Each manifest is evaluated as a CREATE by the same
// policy engine and bundle the webhook runs, against a data document built from --data files (the
// Tenants, Namespaces, routes and Gateways of the cluster as you know it). Exit code 1 when any change
// would be denied, so it can gate a CI pipeline.
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import winston from 'winston';
import { parseAllDocuments } from 'yaml';
import type { Tenant } from '../../api/index.ts';
import { defineError, errorMessage } from '../../lib/errors.ts';
import { defaultPolicyConfig, loadPolicyConfigFile, type PolicyConfig } from '../../policies/config.ts';
import { PolicyEngine } from '../../policies/engine.ts';
import { buildInventory, type InventorySources, type ObjectLike } from '../../policies/inventory.ts';
import type { AdmissionRequest, Decision, UserInfo } from '../../policies/types.ts';
import { formatViolation } from '../../webhooks/review.ts';

export const ManifestError = defineError(
  'TG_CLI_MANIFEST',
  '%s document %s: %s (fix that document and run the check again)',
);

const usage = `usage: tenantgate check -f FILE [options]

Evaluates manifests against the admission policies offline, as the webhook would on CREATE, and prints
each decision. Exits 1 when any manifest would be denied, 0 otherwise (2 on usage errors).

options:
  -f, --filename PATH   manifests (YAML or JSON, several documents per file; a directory: its
                        .yaml/.yml/.json files; "-": stdin); repeatable
  --data PATH           cluster state the policies compare against: Tenants, Namespaces, HTTPRoutes,
                        GRPCRoutes, Gateways (same formats); repeatable
  --tenant NAME         check as this tenant: manifests without a namespace go to its first namespace,
                        and the change is made as one of its owners (needs the Tenant in --data)
  --user NAME           the requesting user (default: the tenant's first User owner, else tenantgate-check)
  --group NAME          a group of the requesting user; repeatable
  --policy-config PATH  enforcement actions and custom bundle files, as the webhook's (default
                        $TENANTGATE_POLICY_CONFIG)
  -o, --output FMT      text (default) or json
  -h, --help
`;

const CLUSTER_SCOPED = new Set([
  'Namespace',
  'Tenant',
  'GatewayClass',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'Node',
  'PersistentVolume',
  'StorageClass',
  'ValidatingWebhookConfiguration',
  'MutatingWebhookConfiguration',
]);

interface Manifest extends ObjectLike {
  spec?: unknown;
  items?: Manifest[];
}

interface Result {
  object: string;
  source: string;
  allowed: boolean;
  decisions: Decision[];
}

export async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        filename: { type: 'string', short: 'f', multiple: true },
        data: { type: 'string', multiple: true },
        tenant: { type: 'string' },
        user: { type: 'string' },
        group: { type: 'string', multiple: true },
        'policy-config': { type: 'string' },
        output: { type: 'string', short: 'o', default: 'text' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    return usageError(errorMessage(err));
  }
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  if (!values.filename?.length) return usageError('-f FILE is required');
  if (values.output !== 'text' && values.output !== 'json')
    return usageError(`-o must be text or json, not '${values.output}'`);

  const manifests = values.filename.flatMap((f) => readManifests(f));
  const data = (values.data ?? []).flatMap((f) => readManifests(f)).map((m) => m.object);
  const inventory = buildInventory({
    tenants: data.filter((o): o is Manifest & Tenant => o.kind === 'Tenant'),
    namespaces: data.filter((o) => o.kind === 'Namespace'),
    routes: data.filter(
      (o) => o.kind === 'HTTPRoute' || o.kind === 'GRPCRoute',
    ) as InventorySources['routes'],
    gateways: data.filter((o) => o.kind === 'Gateway') as InventorySources['gateways'],
  });
  let tenant: Tenant['spec'] | undefined;
  if (values.tenant) {
    tenant = inventory.tenants[values.tenant]?.spec as Tenant['spec'] | undefined;
    if (!tenant)
      return usageError(
        `tenant '${values.tenant}' is not among the Tenants in --data (${Object.keys(inventory.tenants).join(', ') || 'none'})`,
      );
  }

  const config = policyConfig(values['policy-config']);
  // a command's output is its report; the engine's info logs would only be noise on stderr
  const engine = await PolicyEngine.create({
    enforcement: config.enforcement,
    logger: winston.createLogger({ silent: true }),
  });
  for (const b of config.bundles) {
    if ('file' in b) await engine.setBundle(b.name, readFileSync(b.file));
    else
      process.stderr.write(
        `tenantgate check: bundle '${b.name}' comes from a ConfigMap; offline, it is left out\n`,
      );
  }
  engine.setData(inventory);

  const user = userInfo(values.user, values.group, tenant);
  const results: Result[] = manifests.map(({ object, source }) =>
    evaluate(engine, object, source, user, tenant),
  );
  process.stdout.write(
    values.output === 'json' ? JSON.stringify(results, null, 2) + '\n' : renderText(results),
  );
  return results.some((r) => !r.allowed) ? 1 : 0;
}

function usageError(message: string): number {
  process.stderr.write(`tenantgate check: ${message}\n\n${usage}`);
  return 2;
}

function policyConfig(path: string | undefined): PolicyConfig {
  const p = path ?? process.env.TENANTGATE_POLICY_CONFIG;
  return p ? loadPolicyConfigFile(p) : defaultPolicyConfig();
}

/** Every object of a file, directory or stdin, with where it came from ("file.yaml#2"). */
export function readManifests(path: string): { object: Manifest; source: string }[] {
  if (path !== '-' && statSync(path).isDirectory()) {
    return readdirSync(path)
      .filter((f) => /\.(ya?ml|json)$/.test(f))
      .sort()
      .flatMap((f) => readManifests(join(path, f)));
  }
  const text = readFileSync(path === '-' ? 0 : path, 'utf8');
  const out: { object: Manifest; source: string }[] = [];
  parseAllDocuments(text).forEach((doc, i) => {
    if (doc.errors.length) throw new ManifestError([path, i + 1, doc.errors[0]!.message]);
    const value = doc.toJS() as Manifest | null;
    if (!value) return;
    const items = value.kind?.endsWith('List') && Array.isArray(value.items) ? value.items : [value];
    items.forEach((object, j) => {
      if (!object.kind || !object.apiVersion)
        throw new ManifestError([path, i + 1, 'an object needs apiVersion and kind']);
      out.push({ object, source: `${path}#${i + 1}${items.length > 1 ? `.${j + 1}` : ''}` });
    });
  });
  return out;
}

function userInfo(
  user: string | undefined,
  groups: string[] | undefined,
  tenant: Tenant['spec'] | undefined,
): UserInfo {
  const owners = tenant?.owners ?? [];
  const ownerUser = owners.find((o) => o.kind === 'User')?.name;
  const ownerGroups = owners.filter((o) => o.kind === 'Group').map((o) => o.name);
  return {
    username: user ?? ownerUser ?? 'tenantgate-check',
    groups: [...(groups ?? (ownerUser || user ? [] : ownerGroups)), 'system:authenticated'],
  };
}

function evaluate(
  engine: PolicyEngine,
  object: Manifest,
  source: string,
  user: UserInfo,
  tenant: Tenant['spec'] | undefined,
): Result {
  const [group, version] = object.apiVersion!.includes('/')
    ? object.apiVersion!.split('/', 2)
    : ['', object.apiVersion!];
  const kind = object.kind!;
  const namespaced = !CLUSTER_SCOPED.has(kind);
  const namespace = namespaced
    ? (object.metadata?.namespace ?? tenant?.namespaces[0]?.name ?? 'default')
    : undefined;
  const obj = { ...object, metadata: { ...object.metadata, ...(namespace ? { namespace } : {}) } };
  const request: AdmissionRequest = {
    uid: randomUUID(),
    kind: { group: group!, version: version!, kind },
    operation: 'CREATE',
    ...(namespace ? { namespace } : {}),
    name: obj.metadata.name ?? '',
    userInfo: user,
    object: obj as Record<string, unknown>,
    oldObject: null,
  };
  const { decisions, denied } = engine.evaluateAdmission(request);
  return {
    object: `${kind} ${namespace ? `${namespace}/` : ''}${obj.metadata.name ?? ''}`,
    source,
    allowed: !denied,
    decisions,
  };
}

function renderText(results: Result[]): string {
  const lines: string[] = [];
  for (const r of results) {
    const warned = r.decisions.some((d) => d.action === 'warn');
    lines.push(
      `${r.object} (${r.source}): ${r.allowed ? (warned ? 'allowed with warnings' : 'allowed') : 'DENIED'}`,
    );
    for (const d of r.decisions) lines.push(`  ${d.action.padEnd(6)} ${formatViolation(d)}`);
  }
  const denied = results.filter((r) => !r.allowed).length;
  lines.push(`${results.length} object(s) checked, ${denied} would be denied`);
  return lines.join('\n') + '\n';
}
