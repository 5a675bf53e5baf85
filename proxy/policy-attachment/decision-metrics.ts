// A per-policy decision counter shared by the policy kinds the proxy enforces. Outcomes are plain numbers
// bumped on the hot path and handed to prom-client at scrape time: prom-client hashes the label set on
// every inc(), which costs more than a whole rate-limit decision.
import { Counter } from 'prom-client';
import { registry } from '../../lib/metrics.ts';

export type DecisionCounts<D extends string> = Record<D, number>;

export interface DecisionCounter<D extends string> {
  /** The tally of one policy (namespace/name); kept for the life of the process, like any counter series. */
  tally(policy: string): DecisionCounts<D>;
  readonly counter: Counter<'policy' | 'decision'>;
}

/** A `{policy, decision}` counter on the shared registry, fed from per-policy tallies at scrape time. */
export function decisionCounter<D extends string>(options: {
  name: string;
  help: string;
  decisions: readonly D[];
}): DecisionCounter<D> {
  const tallies = new Map<string, DecisionCounts<D>>();
  const counter = new Counter({
    name: options.name,
    help: options.help,
    labelNames: ['policy', 'decision'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [policy, t] of tallies)
        for (const d of options.decisions) if (t[d] > 0) this.labels(policy, d).inc(t[d]);
    },
  });
  return {
    counter,
    tally(policy) {
      let t = tallies.get(policy);
      if (!t) {
        t = Object.fromEntries(options.decisions.map((d) => [d, 0])) as DecisionCounts<D>;
        tallies.set(policy, t);
      }
      return t;
    },
  };
}
