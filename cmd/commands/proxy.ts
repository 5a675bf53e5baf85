// `tenantgate proxy`: the data plane alone. With --from-files DIR it serves the Gateway API objects in DIR
// (reloading on change) without any cluster.
import { parseArgs } from 'node:util';
import { onShutdown, untilSignalled } from '../../lib/shutdown.ts';
import {
  parseBoolean,
  parseFailMode,
  parseGatewayLimitScope,
  type ProxyPolicyOptions,
} from '../../proxy/policy-settings.ts';
import { requestTargetFromFlags } from '../../proxy/request-target-settings.ts';
import { parseWorkers, WORKERS_ENV } from '../../proxy/workers/count.ts';
import { defineError } from '../../lib/errors.ts';

export const InvalidFlagError = defineError('TG_CLI_INVALID_FLAG', '%s: expected %s');

const usage = `usage: tenantgate proxy --from-files DIR [options]

Serves the Gateways of the tenantgate GatewayClass (controllerName tenantgate.io/gateway-controller) with
their HTTPRoutes and GRPCRoutes. A listener on port P is served on P when P >= 1024, else on P + 10000.

options:
  --from-files DIR            read Gateway API YAML/JSON (Gateways, routes, Services, EndpointSlices,
                              ReferenceGrants, Secrets, Namespaces) from DIR and reload on change
  --gateway NS/NAME           serve only this Gateway (repeatable; default: all of ours)
  --bind-address A            address for Gateways without spec.addresses (default 0.0.0.0)
  --admin-address HOST:PORT   /healthz /readyz /metrics (default 127.0.0.1:9901)
  --access-log on|off         JSON access log on stdout (default on)
  --access-log-sample-rate R  log this fraction of requests, 0..1 (errors always) (default 1)
  --max-body-bytes N          largest request body accepted (default 67108864)
  --headers-timeout-ms N      time a client has to send its request headers (default 10000)
  --workers N|auto            worker processes sharing every listening port (SO_REUSEPORT); auto: one
                              per available CPU (default 1; $TENANTGATE_PROXY_WORKERS)

request paths (normalised before routing; docs/proxy.md has the rules):
  --merge-slashes=false       keep repeated slashes (/a//b) instead of merging them
                              (default true; $TENANTGATE_MERGE_SLASHES)
  --escaped-slashes ACTION    what a path with %2F, %5C or \ gets: reject (400), keep (route and forward
                              it encoded) or unescape-and-redirect (307 to the path with / instead)
                              (default reject; $TENANTGATE_ESCAPED_SLASHES)

attached policies (RateLimitPolicy, AccessPolicy); each flag's environment variable applies when the
flag is not given:
  --rate-limit-redis URL      keep rate-limit counters in Redis (redis://host:port[/db]), shared by every
                              proxy using it; default: in-process ($TENANTGATE_RATE_LIMIT_REDIS)
  --rate-limit-fail-mode M    open (allow, counted and logged) or closed (refuse with 503) when Redis
                              cannot answer (default open; $TENANTGATE_RATE_LIMIT_FAIL_MODE)
  --rate-limit-redis-timeout-ms N  how long a Redis command may take before the fail mode answers
                              (default 250; $TENANTGATE_RATE_LIMIT_REDIS_TIMEOUT_MS)
  --rate-limit-headers=false  no X-RateLimit-Limit/-Remaining/-Reset headers (Retry-After stays on 429)
                              (default true; $TENANTGATE_RATE_LIMIT_HEADERS)
  --gateway-limit-scope S     per-route: a Gateway-level limit counts each route apart; shared: all its
                              routes draw from one budget (default per-route; $TENANTGATE_GATEWAY_LIMIT_SCOPE)
  --policy-config FILE        custom policy bundles for AccessPolicy rules, hot-reloaded
                              ($TENANTGATE_POLICY_CONFIG)
  -h, --help
`;

function fail(message: string): number {
  process.stderr.write(`tenantgate proxy: ${message}\n\n${usage}`);
  return 2;
}

export async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        'from-files': { type: 'string' },
        gateway: { type: 'string', multiple: true },
        'bind-address': { type: 'string', default: '0.0.0.0' },
        'admin-address': { type: 'string', default: '127.0.0.1:9901' },
        'access-log': { type: 'string', default: 'on' },
        'access-log-sample-rate': { type: 'string', default: '1' },
        'max-body-bytes': { type: 'string' },
        'headers-timeout-ms': { type: 'string' },
        workers: { type: 'string' },
        'merge-slashes': { type: 'string' },
        'escaped-slashes': { type: 'string' },
        'rate-limit-redis': { type: 'string' },
        'rate-limit-fail-mode': { type: 'string' },
        'rate-limit-redis-timeout-ms': { type: 'string' },
        'rate-limit-headers': { type: 'string' },
        'gateway-limit-scope': { type: 'string' },
        'policy-config': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    return fail((err as Error).message);
  }
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  const dir = values['from-files'];
  if (!dir)
    return fail(
      '--from-files DIR is required (in-cluster mode runs with `tenantgate run --components proxy`)',
    );
  for (const g of values.gateway ?? [])
    if (!/^[^/]+\/[^/]+$/.test(g)) return fail(`--gateway ${g}: expected NAMESPACE/NAME`);
  const sampleRate = Number(values['access-log-sample-rate']);
  if (!(sampleRate >= 0 && sampleRate <= 1))
    return fail(
      `--access-log-sample-rate ${values['access-log-sample-rate']}: expected a number from 0 to 1`,
    );
  if (values['access-log'] !== 'on' && values['access-log'] !== 'off')
    return fail(`--access-log ${values['access-log']}: expected on or off`);
  const num = (flag: string, v: string | undefined): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new InvalidFlagError([`${flag} ${v}`, 'a positive integer']);
    return n;
  };
  let limits;
  try {
    limits = {
      maxBodyBytes: num('--max-body-bytes', values['max-body-bytes']),
      headersTimeoutMs: num('--headers-timeout-ms', values['headers-timeout-ms']),
    };
  } catch (err) {
    return fail((err as Error).message);
  }

  let workers: number;
  try {
    workers =
      values.workers !== undefined
        ? parseWorkers(values.workers)
        : parseWorkers(process.env[WORKERS_ENV] || '1', WORKERS_ENV);
  } catch (err) {
    return fail((err as Error).message);
  }

  let requestTarget;
  try {
    requestTarget = requestTargetFromFlags(values);
  } catch (err) {
    return fail((err as Error).message);
  }

  let policies: ProxyPolicyOptions;
  try {
    policies = policyOptions(values);
  } catch (err) {
    return fail((err as Error).message);
  }

  const { startProxy } = await import('../../proxy/index.ts');
  const proxy = await startProxy({
    source: { kind: 'files', dir },
    gateways: values.gateway,
    bindAddress: values['bind-address'],
    adminAddress: values['admin-address'],
    accessLog: { enabled: values['access-log'] === 'on', sampleRate },
    limits,
    policies,
    requestTarget,
    workers,
  });
  onShutdown('proxy', () => proxy.stop());
  process.stderr.write(
    `[proxy] serving ${proxy.binds.length} bind(s) from ${dir}; admin on ${proxy.adminAddress}\n`,
  );
  await untilSignalled();
  return 0;
}

/** The policy flags given; the rest is left to the environment and the defaults (startProxy). */
function policyOptions(values: Record<string, unknown>): ProxyPolicyOptions {
  const o: ProxyPolicyOptions = {};
  const redis = values['rate-limit-redis'] as string | undefined;
  if (redis !== undefined) {
    if (!/^rediss?:\/\/[^/\s]+/.test(redis))
      throw new InvalidFlagError([`--rate-limit-redis ${redis}`, 'redis://HOST:PORT[/DB] or rediss://...']);
    o.rateLimitRedis = redis;
  }
  const mode = values['rate-limit-fail-mode'] as string | undefined;
  if (mode !== undefined) {
    o.rateLimitFailMode = parseFailMode(mode);
    if (!o.rateLimitFailMode)
      throw new InvalidFlagError([`--rate-limit-fail-mode ${mode}`, 'open or closed']);
  }
  const timeout = values['rate-limit-redis-timeout-ms'] as string | undefined;
  if (timeout !== undefined) {
    o.rateLimitRedisTimeoutMs = Number(timeout);
    if (!Number.isInteger(o.rateLimitRedisTimeoutMs) || o.rateLimitRedisTimeoutMs < 2)
      throw new InvalidFlagError([`--rate-limit-redis-timeout-ms ${timeout}`, 'an integer of at least 2']);
  }
  const headers = values['rate-limit-headers'] as string | undefined;
  if (headers !== undefined) {
    o.rateLimitHeaders = parseBoolean(headers);
    if (o.rateLimitHeaders === undefined)
      throw new InvalidFlagError([`--rate-limit-headers=${headers}`, 'true or false']);
  }
  const scope = values['gateway-limit-scope'] as string | undefined;
  if (scope !== undefined) {
    if (!parseGatewayLimitScope(scope))
      throw new InvalidFlagError([`--gateway-limit-scope ${scope}`, 'per-route or shared']);
    o.gatewayLimitScope = scope as 'per-route' | 'shared';
  }
  const config = values['policy-config'] as string | undefined;
  if (config !== undefined) o.policyConfigPath = config;
  return o;
}
