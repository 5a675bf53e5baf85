// A real Kubernetes control plane on loopback — etcd, kube-apiserver and kube-controller-manager built into
// bin/ by `make tools` — in the manner of controller-runtime's envtest. Used by the integration tests (one
// per run) and by `tenantgate local`. Generates its own PKI (CA, serving cert, admin client cert in
// system:masters, a client cert for the controller manager, service-account keys), runs with RBAC,
// installs CRDs and waits until they are Established.
//
// The controller manager runs the controllers that make a cluster behave like one without nodes: the
// garbage collector (owner references), the namespace controller (a deleted namespace really goes), the
// service-account and token controllers (signing with the key the API server verifies with), the
// kube-root-ca.crt publisher and ClusterRole aggregation. Controllers that need nodes or pods are off.
// Everything lives in one directory that stop() removes (unless it was given by the caller).
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { sleep } from '../../lib/async.ts';
import { createCertificateAuthority, createKeyPair, issueCertificate } from '../../lib/certs.ts';
import { defineError, errorMessage } from '../../lib/errors.ts';
import { ContentType, KubeClient } from '../client.ts';
import { defaultBinDir } from './paths.ts';
import { freePorts } from './ports.ts';
import { SupervisedProcess } from './process.ts';

export const MissingBinaryError = defineError(
  'TG_ENVTEST_MISSING_BINARY',
  '%s not found at %s: run `make tools` (it builds kube-apiserver, kube-controller-manager, etcd, kubectl and opa into bin/)',
);
export const StartTimeoutError = defineError(
  'TG_ENVTEST_START_TIMEOUT',
  '%s did not become ready within %ss; last lines of %s:\n%s',
);
export const CrdInstallError = defineError('TG_ENVTEST_CRD', 'installing CRD %s failed: %s');

export interface ControlPlaneOptions {
  /** where etcd, kube-apiserver, kube-controller-manager live (default: $TENANTGATE_BIN_DIR or the project's bin/) */
  binDir?: string;
  /** directory for data, certs and logs; kept on stop when given, a fresh temp dir (removed) otherwise */
  dir?: string;
  /** YAML files or directories of YAML files with CRDs to install and wait for */
  crdPaths?: string[];
  /** progress messages (e.g. console.error); quiet by default */
  progress?: (message: string) => void;
  /** called if etcd, kube-apiserver or kube-controller-manager dies while running (not during stop) */
  onUnexpectedExit?: (err: Error) => void;
  startTimeoutSeconds?: number;
}

export interface ControlPlane {
  /** https://127.0.0.1:PORT */
  readonly server: string;
  readonly dir: string;
  readonly kubeconfigPath: string;
  readonly kubeconfigYaml: string;
  readonly caPem: string;
  kubeConfig(): KubeConfig;
  /** the processes' last log lines, for error reports */
  lastLogLines(): string;
  /** pids of etcd, kube-apiserver and kube-controller-manager (while running) */
  pids(): Record<string, number | undefined>;
  stop(): Promise<void>;
}

const PORT_ATTEMPTS = 3;

export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const binDir = options.binDir ?? defaultBinDir();
  const progress = options.progress ?? (() => {});
  for (const name of ['etcd', 'kube-apiserver', 'kube-controller-manager']) {
    if (!existsSync(join(binDir, name))) throw new MissingBinaryError([name, join(binDir, name)]);
  }
  const ownsDir = !options.dir;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'tenantgate-envtest-'));
  mkdirSync(dir, { recursive: true });
  const processes: SupervisedProcess[] = [];
  let stopped = false;
  const exitHook = () => {
    for (const p of processes) p.killNow();
    if (ownsDir) rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', exitHook);

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', exitHook);
    for (const p of [...processes].reverse()) await p.stop();
    if (ownsDir) rmSync(dir, { recursive: true, force: true });
  };
  const onUnexpectedExit = (err: Error) => {
    if (!stopped) options.onUnexpectedExit?.(err);
  };

  try {
    const started = Date.now();
    const pki = await ensurePki(dir);
    progress('starting etcd');
    const etcd = await startWithPortRetry(
      (ports) => launchEtcd({ binDir, dir, ports, onUnexpectedExit }),
      2,
      options,
    );
    processes.push(etcd.process);
    progress(`etcd ready at ${etcd.url}; starting kube-apiserver`);
    const apiserver = await startWithPortRetry(
      (ports) => launchApiServer({ binDir, dir, etcdUrl: etcd.url, port: ports[0]!, pki, onUnexpectedExit }),
      1,
      options,
    );
    processes.push(apiserver.process);
    const kubeconfigYaml = renderKubeconfig(apiserver.url, pki, pki.admin);
    const kubeconfigPath = join(dir, 'kubeconfig');
    writeFileSync(kubeconfigPath, kubeconfigYaml, { mode: 0o600 });
    const kubeConfig = () => {
      const kc = new KubeConfig();
      kc.loadFromString(kubeconfigYaml);
      return kc;
    };
    progress(`kube-apiserver ready at ${apiserver.url} (${((Date.now() - started) / 1000).toFixed(1)}s)`);
    if (options.crdPaths?.length) {
      const count = await installCrds(kubeConfig(), options.crdPaths);
      progress(`${count} CRDs established`);
    }
    // The controller manager exits when it loses the API server: then the API server's own exit is the
    // cause to report, so a controller-manager exit is reported only if the API server outlives it.
    const controllerManagerExit = (err: Error) => {
      setTimeout(() => {
        if (apiserver.process.running) onUnexpectedExit(err);
      }, 2_000).unref();
    };
    // after the CRDs, so that the garbage collector's first discovery already knows our kinds (it
    // rediscovers only every 30 s)
    const controllerManager = await startWithPortRetry(
      (ports) =>
        launchControllerManager({
          binDir,
          dir,
          port: ports[0]!,
          kubeconfigYaml: renderKubeconfig(apiserver.url, pki, pki.controllerManager),
          pki,
          onUnexpectedExit: controllerManagerExit,
        }),
      1,
      options,
    );
    processes.push(controllerManager.process);
    progress(`kube-controller-manager ready (${((Date.now() - started) / 1000).toFixed(1)}s)`);
    return {
      server: apiserver.url,
      dir,
      kubeconfigPath,
      kubeconfigYaml,
      caPem: pki.caPem,
      kubeConfig,
      lastLogLines: () => processes.map((p) => `--- ${p.name} (${p.logFile})\n${p.lastLines()}`).join('\n'),
      pids: () => Object.fromEntries(processes.map((p) => [p.name, p.running ? p.pid : undefined])),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

interface Pki {
  caPem: string;
  servingCertFile: string;
  servingKeyFile: string;
  caFile: string;
  saPublicFile: string;
  saPrivateFile: string;
  admin: ClientCredentials;
  controllerManager: ClientCredentials;
}

interface ClientCredentials {
  name: string;
  certPem: string;
  keyPem: string;
}

const PKI_FILES = [
  'ca.crt',
  'apiserver.crt',
  'apiserver.key',
  'sa.pub',
  'sa.key',
  'admin.crt',
  'admin.key',
  'controller-manager.crt',
  'controller-manager.key',
];

/**
 * Creates the PKI once per directory, so a kept directory (tenantgate local) keeps its identity. A PKI
 * missing a file (made by an older version) is made afresh: the etcd data stays valid.
 */
async function ensurePki(dir: string): Promise<Pki> {
  const pkiDir = join(dir, 'pki');
  const f = (name: string) => join(pkiDir, name);
  if (!PKI_FILES.every((name) => existsSync(f(name)))) {
    mkdirSync(pkiDir, { recursive: true });
    const ca = await createCertificateAuthority('tenantgate-envtest-ca', 3650);
    const serving = await issueCertificate(ca, {
      commonName: 'kube-apiserver',
      hosts: ['127.0.0.1', 'localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc'],
      usage: 'server',
      validDays: 3650,
    });
    const admin = await issueCertificate(ca, {
      commonName: 'tenantgate-admin',
      organizations: ['system:masters'],
      usage: 'client',
      validDays: 3650,
    });
    // the identity the API server's bootstrap RBAC grants the controller manager's rights to
    const controllerManager = await issueCertificate(ca, {
      commonName: 'system:kube-controller-manager',
      usage: 'client',
      validDays: 3650,
    });
    const sa = await createKeyPair();
    const files: Record<string, string> = {
      'ca.crt': ca.certPem,
      'apiserver.crt': serving.certPem,
      'apiserver.key': serving.keyPem,
      'sa.pub': sa.publicKeyPem,
      'sa.key': sa.privateKeyPem,
      'admin.crt': admin.certPem,
      'admin.key': admin.keyPem,
      'controller-manager.crt': controllerManager.certPem,
      'controller-manager.key': controllerManager.keyPem,
    };
    for (const [name, content] of Object.entries(files)) writeFileSync(f(name), content, { mode: 0o600 });
  }
  return {
    caPem: readFileSync(f('ca.crt'), 'utf8'),
    caFile: f('ca.crt'),
    servingCertFile: f('apiserver.crt'),
    servingKeyFile: f('apiserver.key'),
    saPublicFile: f('sa.pub'),
    saPrivateFile: f('sa.key'),
    admin: {
      name: 'tenantgate-admin',
      certPem: readFileSync(f('admin.crt'), 'utf8'),
      keyPem: readFileSync(f('admin.key'), 'utf8'),
    },
    controllerManager: {
      name: 'kube-controller-manager',
      certPem: readFileSync(f('controller-manager.crt'), 'utf8'),
      keyPem: readFileSync(f('controller-manager.key'), 'utf8'),
    },
  };
}

export interface Launched {
  process: SupervisedProcess;
  url: string;
}

/** Starts something on fresh ports, again on other ports when one was taken in between (EADDRINUSE). */
export async function startWithPortRetry(
  launch: (ports: number[]) => Promise<Launched>,
  portCount: number,
  options: Pick<ControlPlaneOptions, 'progress'>,
): Promise<Launched> {
  for (let attempt = 1; ; attempt++) {
    const ports = await freePorts(portCount);
    try {
      return await launch(ports);
    } catch (err) {
      const portTaken = /address already in use/i.test(errorMessage(err));
      if (!portTaken || attempt >= PORT_ATTEMPTS) throw err;
      options.progress?.(`port taken (${ports.join(', ')}); retrying on other ports`);
    }
  }
}

async function launchEtcd(o: {
  binDir: string;
  dir: string;
  ports: number[];
  onUnexpectedExit: (err: Error) => void;
}): Promise<Launched> {
  const [clientPort, peerPort] = o.ports as [number, number];
  const url = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const proc = new SupervisedProcess({
    name: 'etcd',
    command: join(o.binDir, 'etcd'),
    args: [
      `--data-dir=${join(o.dir, 'etcd')}`,
      `--listen-client-urls=${url}`,
      `--advertise-client-urls=${url}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=default=${peer}`,
      '--name=default',
      // test and local data need no durability across power loss; fsync dominates etcd latency on shared disks
      '--unsafe-no-fsync',
      '--log-level=warn',
    ],
    logFile: join(o.dir, 'etcd.log'),
    onUnexpectedExit: o.onUnexpectedExit,
  });
  await waitUntil(proc, 30, () => httpOk(`${url}/health`, {}));
  return { process: proc, url };
}

async function launchApiServer(o: {
  binDir: string;
  dir: string;
  etcdUrl: string;
  port: number;
  pki: Pki;
  onUnexpectedExit: (err: Error) => void;
}): Promise<Launched> {
  const url = `https://127.0.0.1:${o.port}`;
  const proc = new SupervisedProcess({
    name: 'kube-apiserver',
    command: join(o.binDir, 'kube-apiserver'),
    args: [
      `--etcd-servers=${o.etcdUrl}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${o.port}`,
      `--cert-dir=${join(o.dir, 'apiserver-certs')}`,
      `--tls-cert-file=${o.pki.servingCertFile}`,
      `--tls-private-key-file=${o.pki.servingKeyFile}`,
      `--client-ca-file=${o.pki.caFile}`,
      `--service-account-key-file=${o.pki.saPublicFile}`,
      `--service-account-signing-key-file=${o.pki.saPrivateFile}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      '--authorization-mode=RBAC',
      '--service-cluster-ip-range=10.0.0.0/24',
      '--allow-privileged=true',
      '--v=1',
    ],
    logFile: join(o.dir, 'kube-apiserver.log'),
    onUnexpectedExit: o.onUnexpectedExit,
  });
  const tls = { ca: o.pki.caPem, cert: o.pki.admin.certPem, key: o.pki.admin.keyPem };
  await waitUntil(proc, 60, () => httpOk(`${url}/readyz`, tls));
  return { process: proc, url };
}

/** The controllers of a full cluster that need no nodes: see the top of this file. */
export const CONTROLLERS = [
  'garbage-collector-controller',
  'namespace-controller',
  'serviceaccount-controller',
  'serviceaccount-token-controller',
  'root-ca-certificate-publisher-controller',
  'clusterrole-aggregation-controller',
];

async function launchControllerManager(o: {
  binDir: string;
  dir: string;
  port: number;
  kubeconfigYaml: string;
  pki: Pki;
  onUnexpectedExit: (err: Error) => void;
}): Promise<Launched> {
  const kubeconfig = join(o.dir, 'controller-manager.kubeconfig');
  writeFileSync(kubeconfig, o.kubeconfigYaml, { mode: 0o600 });
  const proc = new SupervisedProcess({
    name: 'kube-controller-manager',
    command: join(o.binDir, 'kube-controller-manager'),
    args: [
      `--kubeconfig=${kubeconfig}`,
      `--authentication-kubeconfig=${kubeconfig}`,
      `--authorization-kubeconfig=${kubeconfig}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${o.port}`,
      `--cert-dir=${join(o.dir, 'controller-manager-certs')}`,
      `--controllers=${CONTROLLERS.join(',')}`,
      // each controller with its own service account and the RBAC the API server bootstraps for it,
      // as kubeadm runs it: the GC may delete anything, the token controller may write Secrets...
      '--use-service-account-credentials=true',
      `--service-account-private-key-file=${o.pki.saPrivateFile}`,
      `--root-ca-file=${o.pki.caFile}`,
      // one instance: no need to wait for a Lease
      '--leader-elect=false',
      '--v=1',
    ],
    logFile: join(o.dir, 'kube-controller-manager.log'),
    onUnexpectedExit: o.onUnexpectedExit,
  });
  // its serving certificate is self-signed: /healthz is all we ask of it
  await waitUntil(proc, 60, () => httpOk(`https://127.0.0.1:${o.port}/healthz`, { insecure: true }));
  return { process: proc, url: `https://127.0.0.1:${o.port}` };
}

async function waitUntil(
  proc: SupervisedProcess,
  seconds: number,
  ready: () => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if (!proc.running) throw proc.exitError(await proc.whenExited());
    if (await ready()) return;
    await sleep(100);
  }
  await proc.stop();
  throw new StartTimeoutError([proc.name, seconds, proc.logFile, proc.lastLines()]);
}

function httpOk(
  url: string,
  tls: { ca?: string; cert?: string; key?: string; insecure?: boolean },
): Promise<boolean> {
  if (url.startsWith('http:')) {
    return fetch(url, { signal: AbortSignal.timeout(2000) }).then(
      (res) => res.ok,
      () => false,
    );
  }
  return new Promise((resolve) => {
    const { insecure, ...creds } = tls;
    const req = https.get(url, { ...creds, rejectUnauthorized: !insecure, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
  });
}

function renderKubeconfig(server: string, pki: Pki, user: ClientCredentials): string {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: tenantgate-local',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority-data: ${b64(pki.caPem)}`,
    'users:',
    `- name: ${user.name}`,
    '  user:',
    `    client-certificate-data: ${b64(user.certPem)}`,
    `    client-key-data: ${b64(user.keyPem)}`,
    'contexts:',
    '- name: tenantgate-local',
    `  context: {cluster: tenantgate-local, user: ${user.name}}`,
    'current-context: tenantgate-local',
    '',
  ].join('\n');
}

/** Reads every YAML document of kind CustomResourceDefinition under the given files/directories. */
export function readCrds(paths: string[]): KubernetesObject[] {
  const files = paths.flatMap((p) =>
    p.endsWith('.yaml') || p.endsWith('.yml')
      ? [p]
      : readdirSync(p)
          .filter((f) => /\.ya?ml$/.test(f))
          .sort()
          .map((f) => join(p, f)),
  );
  return files.flatMap((file) =>
    parseAllDocuments(readFileSync(file, 'utf8'))
      .map((d) => d.toJS() as KubernetesObject | null)
      .filter((o): o is KubernetesObject => o?.kind === 'CustomResourceDefinition'),
  );
}

/** Server-side applies the CRDs (idempotent) and waits until each is Established. */
export async function installCrds(kc: KubeConfig, paths: string[], timeoutSeconds = 60): Promise<number> {
  // Raw JSON through our client: client-node's typed serializer drops schema fields whose TypeScript names
  // differ from their JSON names (enum, default, x-kubernetes-*), which silently disables validation.
  const client = new KubeClient({ kubeConfig: kc });
  const crds = readCrds(paths);
  const path = (name: string) => `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`;
  try {
    for (const crd of crds) {
      const name = crd.metadata?.name ?? '?';
      try {
        await client.request({
          method: 'PATCH',
          path: path(name),
          query: { fieldManager: 'tenantgate', force: true },
          body: crd,
          contentType: ContentType.Apply,
        });
      } catch (err) {
        throw new CrdInstallError([name, errorMessage(err)], { cause: err });
      }
    }
    const deadline = Date.now() + timeoutSeconds * 1000;
    for (const crd of crds) {
      const name = crd.metadata?.name ?? '?';
      for (;;) {
        const current = await client.request<{
          status?: { conditions?: { type: string; status: string }[] };
        }>({
          method: 'GET',
          path: path(name),
        });
        if (current.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
        if (Date.now() > deadline) throw new CrdInstallError([name, 'not Established in time']);
        await sleep(100);
      }
    }
  } finally {
    await client.close();
  }
  return crds.length;
}
