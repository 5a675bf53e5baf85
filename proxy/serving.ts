// The serving side of one process: the listening servers, the pooled upstreams and the last two reload
// stages — materialise (runtime objects from the IR) and swap (the servers switch to the new table). The
// single proxy process and every worker run one; neither needs the snapshot, only the IR and the policy
// instances for its rules.
import type { Logger } from '../lib/logger.ts';
import type { AttachPolicies } from './request-policy.ts';
import { AccessLog, type AccessLogOptions } from './runtime/access-log.ts';
import { tableGeneration } from './runtime/metrics.ts';
import type { RequestTargetOptions } from './runtime/request-target.ts';
import { ServerSet, type ServerLimits } from './runtime/servers.ts';
import { UpstreamRegistry } from './runtime/upstreams.ts';
import type { RouteTableIR } from './table/ir.ts';
import { materialize } from './table/materialize.ts';
import type { RouteTable } from './table/types.ts';

export interface ServingOptions {
  accessLog: AccessLogOptions;
  maxBodyBytes: number;
  limits: ServerLimits;
  requestTarget: RequestTargetOptions;
  log: Logger;
  /** listen with SO_REUSEPORT, so that several worker processes accept on one port (Linux) */
  reusePort?: boolean;
}

export interface BindProblem {
  key: string;
  message: string;
}

export class ServingPlane {
  readonly #servers: ServerSet;
  readonly #upstreams = new UpstreamRegistry();
  #table: RouteTable | undefined;

  constructor(options: ServingOptions) {
    const deps = {
      upstreams: this.#upstreams,
      accessLog: new AccessLog(options.accessLog),
      maxBodyBytes: options.maxBodyBytes,
      log: options.log,
      requestTarget: options.requestTarget,
    };
    this.#servers = new ServerSet(deps, { ...options.limits, reusePort: options.reusePort ?? false });
  }

  get table(): RouteTable | undefined {
    return this.#table;
  }

  get binds(): string[] {
    return this.#servers.keys;
  }

  /** Stages 4 and 5: materialise the IR, then swap it in. Returns the binds that could not listen. */
  async apply(ir: RouteTableIR, attachPolicies: AttachPolicies | undefined): Promise<BindProblem[]> {
    const table = materialize(ir, { attachPolicies });
    await this.#servers.apply(table);
    this.#table = table;
    this.#upstreams.retain(table.upstreamKeys);
    tableGeneration.set(table.generation);
    return [...this.#servers.errors];
  }

  /** Stops accepting and lets open requests finish (at most the drain time). */
  async close(): Promise<void> {
    await this.#servers.close();
    await this.#upstreams.close();
  }
}
