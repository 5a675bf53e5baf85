// Loading a KubeConfig: an explicit file, else $KUBECONFIG, else the in-cluster service account, else
// ~/.kube/config. Everything that talks to the API server starts here, then builds a KubeClient on it:
//
//   const kc = loadKubeConfig({ path: opts.kubeconfig });        // or loadKubeConfig() for the defaults
//   const client = new KubeClient({ kubeConfig: kc });            // kube/client.ts
//
// Errors name where we looked, so "no cluster" is obvious from the message.
import fs from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { defineError } from '../lib/errors.ts';

export const KubeConfigError = defineError('TG_KUBECONFIG', 'cannot load a kubeconfig: %s');

export interface LoadKubeConfigOptions {
  /** a kubeconfig file; wins over everything else */
  path?: string;
  /** a context in that file; default: its current-context */
  context?: string;
  /** force the in-cluster service account (default: used when no path and no $KUBECONFIG) */
  inCluster?: boolean;
  /** defaults to process.env */
  env?: NodeJS.ProcessEnv;
}

const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

export function loadKubeConfig(options: LoadKubeConfigOptions = {}): KubeConfig {
  const env = options.env ?? process.env;
  const kc = new KubeConfig();
  const source = pickSource(options, env);
  try {
    if (source.kind === 'file') kc.loadFromFile(source.path);
    else if (source.kind === 'in-cluster') kc.loadFromCluster();
    else kc.loadFromDefault();
  } catch (err) {
    throw new KubeConfigError([`${describe(source)}: ${(err as Error).message}`], { cause: err });
  }
  if (options.context) {
    if (!kc.getContextObject(options.context)) {
      throw new KubeConfigError([`${describe(source)} has no context '${options.context}'`]);
    }
    kc.setCurrentContext(options.context);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster?.server) {
    throw new KubeConfigError([
      `${describe(source)} names no cluster server for context '${kc.getCurrentContext()}'`,
    ]);
  }
  return kc;
}

type Source = { kind: 'file'; path: string } | { kind: 'in-cluster' } | { kind: 'default' };

function pickSource(options: LoadKubeConfigOptions, env: NodeJS.ProcessEnv): Source {
  if (options.path) return { kind: 'file', path: options.path };
  if (options.inCluster) return { kind: 'in-cluster' };
  // KUBECONFIG may list several files (path-separated); client-node's loadFromDefault merges them.
  if (env.KUBECONFIG) {
    const files = env.KUBECONFIG.split(process.platform === 'win32' ? ';' : ':').filter(Boolean);
    if (files.length === 1) return { kind: 'file', path: files[0]! };
    return { kind: 'default' };
  }
  if (env.KUBERNETES_SERVICE_HOST && fs.existsSync(SERVICE_ACCOUNT_TOKEN)) return { kind: 'in-cluster' };
  return { kind: 'default' };
}

function describe(source: Source): string {
  if (source.kind === 'file') return `kubeconfig file ${source.path}`;
  if (source.kind === 'in-cluster') return 'the in-cluster service account';
  return 'the default kubeconfig ($KUBECONFIG or ~/.kube/config)';
}

/** The current context's server URL, for logs. */
export function serverOf(kc: KubeConfig): string {
  return kc.getCurrentCluster()?.server ?? '(none)';
}

/** Where tenantgate's own objects live (Leases, the webhook's Secret and Service): $TENANTGATE_NAMESPACE,
 *  else the Pod's namespace ($POD_NAMESPACE, from the downward API), else tenantgate-system. */
export function operatorNamespace(env: NodeJS.ProcessEnv = process.env): string {
  return env.TENANTGATE_NAMESPACE ?? env.POD_NAMESPACE ?? 'tenantgate-system';
}
