// startWebhook: the admission webhook component. Loads the policies (built-in bundle + the platform
// team's), keeps their data current from informers, serves AdmissionReviews over HTTPS, records the audit
// trail, holds counted CREATEs to the Tenant limits exactly (quota.ts: reservations in a per-tenant
// ConfigMap), and registers itself with the API server with a caBundle it keeps valid.
//
// In a cluster (tenantgate run): certificates in Secret <namespace>/tenantgate-webhook-tls, registration
// through Service <namespace>/tenantgate-webhook. With `local` (tenantgate local) or `url`: the API server
// calls https://127.0.0.1:<port>/validate with an in-memory CA. Settings not passed as options come from
// the environment: TENANTGATE_WEBHOOK_ADDRESS, POD_NAMESPACE, TENANTGATE_POLICY_CONFIG, TENANTGATE_AUDIT_LOG,
// TENANTGATE_WEBHOOK_CERT_DIR (certificates from cert-manager instead of self-managed ones),
// TENANTGATE_WEBHOOK_DEADLINE_MS (how long one review may take).
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { KubeClient } from '../kube/client.ts';
import { EventRecorder } from '../kube/events.ts';
import { InformerFactory } from '../kube/informer-factory.ts';
import { KINDS } from '../kube/resources.ts';
import type { KubeObject } from '../kube/types.ts';
import type { ConfigMap } from '../api/kubernetes.ts';
import type { AdminServer } from '../lib/admin-server.ts';
import { defineError } from '../lib/errors.ts';
import { componentLogger } from '../lib/logger.ts';
import { watchBundles, type BundleRefusal, type BundleWatcher } from '../policies/bundle-sources.ts';
import { defaultPolicyConfig, loadPolicyConfigFile, type PolicyConfig } from '../policies/config.ts';
import { PolicyEngine } from '../policies/engine.ts';
import { AUDIT_LOG_ENV } from './audit-log.ts';
import { openWebhookAuditTrail, type WebhookAuditOptions } from './audit/webhook-audit.ts';
import {
  ensureSecretCertificates,
  ephemeralCertificates,
  readCertificateDir,
  type ServingCertificates,
} from './certs.ts';
import { createAdoptionGate } from './adoption-gate.ts';
import { createAdmissionHandler } from './handler.ts';
import { startInventorySync } from './inventory-source.ts';
import { reportTenantRoutes } from './metrics.ts';
import { DEFAULT_RESERVATION_TTL_MS, QuotaReserver, type QuotaReserverOptions } from './quota.ts';
import { COUNT_LIMITS } from './quota-limits.ts';
import { ConfigMapLedgerStore } from './quota-store.ts';
import { InformerCounts } from './quota-view.ts';
import {
  DEFAULT_SERVICE_NAME,
  registerWebhook,
  WEBHOOK_TIMEOUT_SECONDS,
  type ClientConfig,
  type RegistrationOptions,
} from './registration.ts';
import { startWebhookServer, VALIDATE_PATH } from './server.ts';
import { ViolationEvents } from './violation-events.ts';
import { operatorNamespace } from '../kube/config.ts';

export const WebhookClusterMissingError = defineError(
  'TG_WEBHOOK_NO_CLUSTER',
  'startWebhook needs a cluster to read and register with: pass options.kubeConfig or options.client',
);

export interface StartWebhookOptions {
  kubeConfig?: KubeConfig;
  /** share the process's client and informers (one watch per kind); created and owned here otherwise */
  client?: KubeClient;
  informers?: InformerFactory;
  admin?: AdminServer;
  /** tenantgate local: serve on 127.0.0.1 with in-memory certificates; state (audit log) under stateDir */
  local?: { stateDir: string; caPem?: string };
  /** listen address; default $TENANTGATE_WEBHOOK_ADDRESS, 0.0.0.0:9443 (local: 127.0.0.1:0) */
  address?: string;
  /** the operator's namespace (Secret, Service, exempt from the webhook); default operatorNamespace(): $TENANTGATE_NAMESPACE, $POD_NAMESPACE or tenantgate-system */
  namespace?: string;
  serviceName?: string;
  /** the Service port the API server calls (clientConfig.service.port); default 443 */
  servicePort?: number;
  secretName?: string;
  /** register with this URL instead of the Service; "{port}" is replaced by the bound port */
  url?: string;
  /** default true */
  register?: boolean;
  registrationName?: string;
  /** limit the webhook to labelled objects (tests sharing one API server) */
  objectSelector?: RegistrationOptions['objectSelector'];
  /** default $TENANTGATE_POLICY_CONFIG; deny for every policy and no custom bundles without one */
  policyConfigPath?: string;
  policyConfig?: PolicyConfig;
  /**
   * the process's shared policy engine (cmd/shared-services.ts), which the proxy also evaluates
   * AccessPolicies with; the webhook owns its configuration: it sets the enforcement and loads the bundles.
   * Default: an engine of its own.
   */
  engine?: PolicyEngine;
  /** the JSON-lines file (an extra sink); default $TENANTGATE_AUDIT_LOG, under stateDir with `local`, else none */
  auditLogPath?: string;
  auditMaxSizeBytes?: number;
  auditMaxFiles?: number;
  /** the durable store, its retention and the query API (webhooks/audit/webhook-audit.ts) */
  audit?: WebhookAuditOptions;
  deadlineMs?: number;
  bodyLimitBytes?: number;
  /** the exact Tenant limits' reservations (quota.ts); default timeout: the deadline less 1 s */
  quota?: Partial<Pick<QuotaReserverOptions, 'ttlMs' | 'settleMs' | 'timeoutMs' | 'maxAttempts'>>;
  /** how often to check the certificates (Secret or certDir); default 1 h */
  certCheckIntervalMs?: number;
  /**
   * serve tls.crt/tls.key from this directory (a mounted cert-manager Secret), re-read on change; the
   * caBundle is then cert-manager's to inject, so the webhook does not register itself unless asked.
   * Default $TENANTGATE_WEBHOOK_CERT_DIR.
   */
  certDir?: string;
}

export interface RunningWebhook {
  /** host:port bound */
  address: string;
  port: number;
  engine: PolicyEngine;
  auditLogPath: string | undefined;
  /** the audit query API, when served */
  auditUrl: string | undefined;
  /** the auditors' page (under `local`, with a token that signs the local admin in) */
  auditPageUrl: string | undefined;
  caBundlePem: string;
  stop(): Promise<void>;
}

export async function startWebhook(options: StartWebhookOptions): Promise<RunningWebhook> {
  const log = componentLogger('webhook');
  const cleanup: (() => Promise<void> | void)[] = [];
  const stop = async () => {
    for (const fn of cleanup.splice(0).reverse()) {
      try {
        await fn();
      } catch (err) {
        log.error('error while stopping the webhook', { err });
      }
    }
  };
  try {
    const namespace = options.namespace ?? operatorNamespace();
    const deadlineMs = options.deadlineMs ?? deadlineFromEnv();
    const policyConfig = resolvePolicyConfig(options);
    const engine = options.engine ?? (await PolicyEngine.create({ enforcement: policyConfig.enforcement }));
    if (options.engine) engine.setEnforcement(policyConfig.enforcement);

    const client =
      options.client ??
      new KubeClient({ kubeConfig: requireKubeConfig(options), userAgent: 'tenantgate-webhook' });
    if (!options.client) cleanup.push(() => client.close());
    const informers = options.informers ?? new InformerFactory({ client });
    const recorder = new EventRecorder({ client, reportingController: 'tenantgate.io/webhook' });
    cleanup.push(() => recorder.close());

    const inventory = startInventorySync({ informers, engine });
    cleanup.push(() => inventory.stop());
    // exact Tenant limits: ledgers in the operator's namespace, and what this replica's informers show
    const ttlMs = options.quota?.ttlMs ?? DEFAULT_RESERVATION_TTL_MS;
    const counts = new InformerCounts({ informers, limits: COUNT_LIMITS, rememberMs: ttlMs });
    // the ledger's reads and writes are on every counted CREATE's critical path: a pool of their own, so
    // that they never queue behind the best-effort Events a burst of refusals produces
    const ledgerClient = new KubeClient({
      kubeConfig: client.kubeConfig,
      userAgent: 'tenantgate-webhook-quota',
      maxConnections: 4,
    });
    cleanup.push(() => ledgerClient.close());
    const quota = new QuotaReserver({
      store: new ConfigMapLedgerStore({ client: ledgerClient, namespace }),
      counts,
      enforcement: () => engine.enforcement,
      inventory: () => engine.inventory,
      ttlMs,
      settleMs: options.quota?.settleMs,
      timeoutMs: options.quota?.timeoutMs ?? Math.max(500, deadlineMs - 1000),
      maxAttempts: options.quota?.maxAttempts,
    });
    cleanup.push(() => counts.stop());
    cleanup.push(reportTenantRoutes(() => engine.inventory.route_counts));
    const configMaps = policyConfig.bundles.some((b) => 'configMap' in b)
      ? informers.informer<ConfigMap>(KINDS.ConfigMap)
      : undefined;
    if (!options.informers) {
      informers.start();
      cleanup.push(() => informers.stop());
    }
    options.admin?.addReadinessCheck(
      'webhook-inventory',
      () => inventory.hasSynced() || 'waiting for the first list of ' + informers.pending().join(', '),
    );
    // serving before the inventory is in would let tenant changes through unchecked
    await inventory.ready;
    // a ConfigMap that is merely not listed yet must not count as missing
    if (configMaps) await configMaps.waitForSync({ timeoutMs: 60_000 });
    const watchers: BundleWatcher[] = watchBundles(policyConfig.bundles, {
      engine,
      ...(configMaps ? { configMaps } : {}),
      onRefused: (r) => recordRefusal(recorder, r, policyConfig),
    });
    cleanup.push(() => watchers.forEach((w) => w.stop()));
    await Promise.all(watchers.map((w) => w.ready));

    const auditLogPath =
      options.auditLogPath ??
      process.env[AUDIT_LOG_ENV] ??
      (options.local ? join(options.local.stateDir, 'audit', 'admission.jsonl') : undefined);
    const audit = await openWebhookAuditTrail({
      ...options.audit,
      filePath: auditLogPath,
      fileMaxSizeBytes: options.auditMaxSizeBytes,
      fileMaxFiles: options.auditMaxFiles,
      stateDir: options.local?.stateDir,
    });
    cleanup.push(() => audit.close());

    const byUrl = options.local !== undefined || options.url !== undefined;
    const certDir = options.certDir ?? process.env.TENANTGATE_WEBHOOK_CERT_DIR;
    const serviceName = options.serviceName ?? DEFAULT_SERVICE_NAME;
    const secretName = options.secretName ?? 'tenantgate-webhook-tls';
    const hosts = byUrl ? ['127.0.0.1', 'localhost'] : serviceHosts(serviceName, namespace);
    const loadCerts = (): Promise<ServingCertificates> =>
      certDir
        ? readCertificateDir(certDir)
        : byUrl
          ? ephemeralCertificates(hosts)
          : ensureSecretCertificates({ client, namespace, secretName, hosts });
    let certs = await loadCerts();

    const events = new ViolationEvents(recorder);
    const server = await startWebhookServer({
      handler: createAdoptionGate({
        handler: createAdmissionHandler({ engine, audit, events, quota }),
        client,
        audit,
        events,
      }),
      address:
        options.address ?? process.env.TENANTGATE_WEBHOOK_ADDRESS ?? (byUrl ? '127.0.0.1:0' : '0.0.0.0:9443'),
      certPem: certs.certPem,
      keyPem: certs.keyPem,
      deadlineMs,
      bodyLimitBytes: options.bodyLimitBytes,
    });
    cleanup.push(() => server.close());
    const auditApi = await audit.serve({
      client,
      engine,
      certs: () => certs,
      local: options.local !== undefined,
      namespace,
      serviceName,
    });

    const clientConfig: ClientConfig = byUrl
      ? {
          url: (options.url ?? `https://127.0.0.1:{port}${VALIDATE_PATH}`).replace(
            '{port}',
            String(server.port),
          ),
        }
      : {
          service: {
            namespace,
            name: serviceName,
            ...(options.servicePort ? { port: options.servicePort } : {}),
          },
        };
    const register = async () => {
      if (options.register === false || (certDir && options.register !== true)) return;
      await registerWebhook(client, {
        clientConfig,
        ...(certs.caBundlePem ? { caBundlePem: certs.caBundlePem } : {}),
        operatorNamespace: namespace,
        ...(options.registrationName ? { name: options.registrationName } : {}),
        ...(options.objectSelector ? { objectSelector: options.objectSelector } : {}),
      });
    };
    await register();

    if (!byUrl || certDir) {
      // renewals by any replica reach every replica within one interval
      const timer = setInterval(() => {
        void loadCerts().then(
          async (next) => {
            if (next.certPem === certs.certPem && next.caBundlePem === certs.caBundlePem) return;
            certs = next;
            server.setCertificate(next.certPem, next.keyPem);
            auditApi?.setCertificate(next.certPem, next.keyPem);
            await register();
            log.info('webhook serving certificate rotated', { notAfter: next.notAfter.toISOString() });
          },
          (err: unknown) => log.error('webhook certificate check failed', { err }),
        );
      }, options.certCheckIntervalMs ?? 3_600_000);
      timer.unref();
      cleanup.push(() => clearInterval(timer));
    }

    log.info('webhook serving', {
      address: server.address,
      clientConfig,
      auditLog: auditLogPath,
      auditUrl: auditApi?.url,
      bundles: engine.bundles().map((b) => b.name),
    });
    return {
      address: server.address,
      port: server.port,
      engine,
      auditLogPath,
      auditUrl: auditApi?.url,
      auditPageUrl: auditApi?.pageUrl,
      caBundlePem: certs.caBundlePem,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

function resolvePolicyConfig(options: StartWebhookOptions): PolicyConfig {
  if (options.policyConfig) return options.policyConfig;
  const path = options.policyConfigPath ?? process.env.TENANTGATE_POLICY_CONFIG;
  return path ? loadPolicyConfigFile(path) : defaultPolicyConfig();
}

function requireKubeConfig(options: StartWebhookOptions): KubeConfig {
  if (!options.kubeConfig) throw new WebhookClusterMissingError();
  return options.kubeConfig;
}

function serviceHosts(service: string, namespace: string): string[] {
  return [
    `${service}.${namespace}.svc`,
    `${service}.${namespace}.svc.cluster.local`,
    `${service}.${namespace}`,
    service,
  ];
}

/** A refused bundle: an Event on its ConfigMap (files have no object to hang one on; the log has it). */
function recordRefusal(recorder: EventRecorder, refusal: BundleRefusal, config: PolicyConfig): void {
  const spec = config.bundles.find((b) => b.name === refusal.bundle);
  if (!spec || !('configMap' in spec)) return;
  const regarding: KubeObject = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: spec.configMap.name, namespace: spec.configMap.namespace },
  };
  recorder.record(regarding, {
    type: 'Warning',
    reason: 'PolicyBundleRefused',
    action: 'LoadBundle',
    note: `policy bundle '${refusal.bundle}' refused; the last good version stays in force: ${refusal.reason}`,
  });
}

export const InvalidDeadlineError = defineError(
  'TG_WEBHOOK_DEADLINE',
  "TENANTGATE_WEBHOOK_DEADLINE_MS=%s is not a whole number of milliseconds from 500 to %s (the registration's timeoutSeconds less 0.5 s, so that the API server still gets the answer): set it within that range, or unset it for the default 3000",
);

/** $TENANTGATE_WEBHOOK_DEADLINE_MS, default 3000: inside the registration's timeout, or the API server gives up first. */
export function deadlineFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const text = env.TENANTGATE_WEBHOOK_DEADLINE_MS;
  if (!text) return 3000;
  const ms = Number(text);
  const max = WEBHOOK_TIMEOUT_SECONDS * 1000 - 500;
  if (!Number.isInteger(ms) || ms < 500 || ms > max) throw new InvalidDeadlineError([text, max]);
  return ms;
}
