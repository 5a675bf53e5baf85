// `tenantgate explain`: which listener, route rule and policies decide a request, and what each policy
// decides — what a developer runs when a request is refused and they do not know why. It reads the
// cluster (kubeconfig) or a directory of manifests, and asks proxy/explain.ts, which uses the proxy's own
// compiler, matcher, attach hook and policy engine.
import { parseArgs } from 'node:util';
import type { KubeObject } from '../../proxy/model/gateway-api.ts';
import winston from 'winston';
import { errorMessage } from '../../lib/errors.ts';
import { componentLogger } from '../../lib/logger.ts';
import { isForbidden, isNotFound, KubeClient } from '../../kube/client.ts';
import { loadKubeConfig } from '../../kube/config.ts';
import { KINDS, UnknownKindError, type KindRef } from '../../kube/resources.ts';
import { requestTargetFromFlags, resolveRequestTargetOptions } from '../../proxy/request-target-settings.ts';
import { explainRequest, type ExplainRequest, type Explanation } from '../../proxy/explain.ts';
import { inputsFromObjects, type ProxyInputs } from '../../proxy/model/inputs.ts';
import { PolicyRuntime } from '../../proxy/policy-runtime.ts';
import { resolvePolicySettings } from '../../proxy/policy-settings.ts';
import { describeInForce } from '../../proxy/policies-in-force.ts';
import { createLocalStore } from '../../proxy/ratelimit/local-store.ts';
import { ManifestReader } from '../../proxy/sources/read-manifests.ts';

const usage = `usage: tenantgate explain --gateway NS/NAME --host H --path P [options]

Shows what the proxy does with one request: the listener and the route rule that match it (or why none
does), the path as the proxy routes it, and every RateLimitPolicy and AccessPolicy in force there, in the
order the proxy asks them, with what each decides. Access rules are evaluated by the policy engine the
proxy runs; rate limits name the limits that count the request (live counters are in the proxy).
Exits 0 when the request would reach a backend, 1 when the proxy would answer it itself (403, 404,
429...), 2 on usage errors.

options:
  --gateway NS/NAME     the Gateway the request arrives at (required)
  --listener NAME       the listener (its port) it arrives on; default: the Gateway's lowest port
  --host HOST           the Host / :authority (required)
  --path PATH           the request target's path, a query allowed (required)
  --method METHOD       default GET
  --header K=V          a request header; repeatable
  --source-ip IP        the client address (default 127.0.0.1)
  --from-files DIR      read Gateway API manifests from DIR (as 'tenantgate proxy --from-files') instead
                        of the cluster
  --kubeconfig FILE     default: $KUBECONFIG, ~/.kube/config, in-cluster
  --policy-config PATH  custom bundles and enforcement, as the proxy's (default $TENANTGATE_POLICY_CONFIG)
  --controller-name N   the GatewayClass controllerName whose Gateways the proxy serves (default
                        tenantgate.io/gateway-controller)
  --merge-slashes=BOOL  as the proxy's flag: merge repeated slashes (default true; $TENANTGATE_MERGE_SLASHES)
  --escaped-slashes A   as the proxy's flag: reject, keep or unescape-and-redirect for %2F, %5C, \\
                        (default reject; $TENANTGATE_ESCAPED_SLASHES)
  -o, --output FMT      table (default) or json
  -h, --help
`;

/** What the proxy reads from the cluster (proxy/sources/cluster.ts), listed once. */
const CLUSTER_KINDS: readonly KindRef[] = [
  KINDS.GatewayClass,
  KINDS.Gateway,
  KINDS.HTTPRoute,
  KINDS.GRPCRoute,
  KINDS.Service,
  KINDS.EndpointSlice,
  KINDS.ReferenceGrant,
  KINDS.Secret,
  KINDS.Namespace,
  KINDS.RateLimitPolicy,
  KINDS.AccessPolicy,
];

export async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        gateway: { type: 'string' },
        listener: { type: 'string' },
        host: { type: 'string' },
        path: { type: 'string' },
        method: { type: 'string', default: 'GET' },
        header: { type: 'string', multiple: true, default: [] },
        'source-ip': { type: 'string', default: '127.0.0.1' },
        'from-files': { type: 'string' },
        kubeconfig: { type: 'string' },
        'policy-config': { type: 'string' },
        'controller-name': { type: 'string' },
        'merge-slashes': { type: 'string' },
        'escaped-slashes': { type: 'string' },
        output: { type: 'string', short: 'o', default: 'table' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    return usageError((err as Error).message);
  }
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  const gw = /^([a-z0-9][-a-z0-9.]*)\/([a-z0-9][-a-z0-9.]*)$/.exec(values.gateway ?? '');
  if (!gw) return usageError(`--gateway must be NAMESPACE/NAME (got '${values.gateway ?? ''}')`);
  if (!values.host) return usageError('--host is required (the Host the request carries)');
  if (!values.path) return usageError('--path is required (e.g. /api/users?id=1)');
  if (values.output !== 'table' && values.output !== 'json')
    return usageError(`-o must be table or json, not '${values.output}'`);
  let requestTarget;
  try {
    requestTarget = resolveRequestTargetOptions(requestTargetFromFlags(values));
  } catch (err) {
    return usageError((err as Error).message);
  }
  const headers: Record<string, string> = {};
  for (const h of values.header) {
    const eq = h.indexOf('=');
    if (eq <= 0) return usageError(`--header must be NAME=VALUE (got '${h}')`);
    headers[h.slice(0, eq).trim().toLowerCase()] = h.slice(eq + 1);
  }
  const request: ExplainRequest = {
    gateway: { namespace: gw[1]!, name: gw[2]! },
    ...(values.listener ? { listener: values.listener } : {}),
    host: values.host,
    path: values.path,
    method: values.method,
    headers,
    sourceIp: values['source-ip'],
  };

  const fromFiles = values['from-files'];
  const notes: string[] = [];
  const inputs = fromFiles ? await readFiles(fromFiles, notes) : await readCluster(values.kubeconfig, notes);
  const runtime = new PolicyRuntime({
    settings: resolvePolicySettings({
      // counters are the live proxy's; explain never talks to its Redis
      rateLimitRedis: undefined,
      ...(values['policy-config'] ? { policyConfigPath: values['policy-config'] } : {}),
    }),
    rateLimitStore: createLocalStore({ maxKeys: 1_000 }),
    onRulesChanged: () => undefined,
    // the output says what is wrong with a policy; logs only when asked for (TENANTGATE_LOG_LEVEL)
    logger: process.env.TENANTGATE_LOG_LEVEL
      ? componentLogger('explain')
      : winston.createLogger({ silent: true }),
  });
  let explanation: Explanation;
  try {
    await runtime.prepare(inputs);
    explanation = await explainRequest(inputs, runtime.compile(inputs), request, {
      acceptUnknownClasses: !!fromFiles,
      requestTarget,
      ...(values['controller-name'] ? { controllerName: values['controller-name'] } : {}),
    });
  } finally {
    await runtime.close();
  }
  for (const n of notes) process.stderr.write(`tenantgate explain: note: ${n}\n`);
  process.stdout.write(
    values.output === 'json' ? JSON.stringify(explanation, null, 2) + '\n' : renderTable(explanation),
  );
  return explanation.outcome.forwarded ? 0 : 1;
}

function usageError(message: string): number {
  process.stderr.write(`tenantgate explain: ${message}\n\n${usage}`);
  return 2;
}

async function readFiles(dir: string, notes: string[]): Promise<ProxyInputs> {
  const result = await new ManifestReader(dir).read();
  for (const p of result.problems) notes.push(`manifest not read: ${p}`);
  return inputsFromObjects(result.objects).inputs;
}

/** One list per kind. A kind the caller may not read, or a CRD not installed, is left out with a note. */
async function readCluster(kubeconfig: string | undefined, notes: string[]): Promise<ProxyInputs> {
  const client = new KubeClient({
    kubeConfig: loadKubeConfig(kubeconfig ? { path: kubeconfig } : {}),
    userAgent: 'tenantgate-explain',
  });
  try {
    const objects: KubeObject[] = [];
    await Promise.all(
      CLUSTER_KINDS.map(async (kind) => {
        try {
          const list = await client.list(kind);
          for (const item of list.items)
            objects.push({ ...item, apiVersion: kind.apiVersion, kind: kind.kind } as KubeObject);
        } catch (err) {
          const missing = isNotFound(err) || err instanceof UnknownKindError;
          if (!missing && !isForbidden(err)) throw err;
          notes.push(
            `${kind.kind}: not read (${missing ? 'not installed' : 'forbidden for you'}); ${
              kind.kind === 'Secret'
                ? 'api-key AccessPolicies that read a Secret show as invalid'
                : 'explained without them'
            } — ${errorMessage(err)}`,
          );
        }
      }),
    );
    return inputsFromObjects(objects).inputs;
  } finally {
    await client.close();
  }
}

export function renderTable(e: Explanation): string {
  const lines: string[] = [];
  const r = e.request;
  lines.push(`request    ${r.method} ${r.host}${r.rawPath}  from ${r.sourceIp}`);
  lines.push(`path       ${r.path}${r.path !== r.rawPath.split('?')[0] ? '  (normalised)' : ''}`);
  lines.push(`gateway    ${e.gateway}`);
  if (e.listener)
    lines.push(
      `listener   ${e.listener.name} (${e.listener.scheme}, port ${e.listener.port}, hostname ${e.listener.hostname ?? '*'})`,
    );
  if (e.route) {
    const rule = `rule ${e.route.ruleIndex}${e.route.ruleName ? ` (${e.route.ruleName})` : ''}`;
    lines.push(`route      ${e.route.kind} ${e.route.namespace}/${e.route.name}, ${rule}: ${e.route.match}`);
  }
  if (e.route) {
    lines.push('');
    if (e.policies.length === 0) lines.push('policies   none in force');
    else {
      const rows = e.policies.map((p, i) => [
        String(i + 1),
        describeInForce(p),
        p.decision + (p.status ? ` ${p.status}` : ''),
        p.detail,
      ]);
      const head = ['#', 'POLICY IN FORCE', 'DECISION', 'WHY'];
      const widths = head.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]!.length)));
      const fmt = (row: string[]) =>
        row
          .map((cell, c) => (c === row.length - 1 ? cell : cell.padEnd(widths[c]!)))
          .join('  ')
          .trimEnd();
      lines.push(fmt(head), ...rows.map(fmt));
    }
  }
  lines.push('');
  const o = e.outcome;
  lines.push(`outcome    ${o.status ? `${o.status}: ` : ''}${o.reason}`);
  return lines.join('\n') + '\n';
}
