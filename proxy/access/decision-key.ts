// The cache key of an AccessPolicy decision: the request fields and headers its rule declares it reads
// (AccessReads), each written as `<length>:<value>` and a missing one as `-`, one after the other in the
// declared order. Length-prefixed, so two different inputs never give the same key (a value cannot pass
// for a boundary); no hashing, so building it costs a few string concatenations.
import type { AccessReads } from '../../policies/types.ts';
import type { RequestContext } from '../request-policy.ts';

/** Longer keys are not cached (the request is evaluated), so no entry holds more than this. */
export const MAX_KEY_LENGTH = 256;

/** What the rule is given besides the request, and the one header it never sees as sent (api-key). */
export interface KeyContext {
  route: { kind: string; namespace: string; name: string };
  tenant: string | undefined;
  /** the host as the rule sees it (no port, lower-cased) */
  host: string;
  /**
   * api-key: the rule is handed the outcome of the proxy's key comparison as its parameters (api-key.ts),
   * which then differ per request, so the outcome leads the key: undefined, no key header; '', a key that
   * matched nothing; else the matched digest (hex). The key header itself stands for that outcome, so no
   * presented key is ever kept.
   */
  apiKey?: { header: string; outcome: string | undefined };
}

export type DecisionKeyFn = ((ctx: RequestContext, about: KeyContext) => string | undefined) & {
  /**
   * The rule reads the client address and nothing else (allow-cidrs): without an API key the address
   * itself is the whole key, so the caller may use it without building the KeyContext (hot path).
   */
  readonly sourceIpOnly: boolean;
};

/** The key builder for one declaration; its result is undefined when the key would be too long. */
export function decisionKey(reads: AccessReads): DecisionKeyFn {
  const fields = reads.fields;
  const headers = reads.headers;
  const sourceIpOnly = fields.length === 1 && fields[0] === 'source_ip' && headers.length === 0;
  const key = (ctx: RequestContext, about: KeyContext): string | undefined => {
    let key = about.apiKey ? part(about.apiKey.outcome) : '';
    for (const f of fields) {
      switch (f) {
        case 'method':
          key += part(ctx.method);
          break;
        case 'path':
          key += part(ctx.path);
          break;
        case 'host':
          key += part(about.host);
          break;
        case 'source_ip':
          key += part(ctx.sourceIp);
          break;
        case 'route':
          key += part(`${about.route.kind}/${about.route.namespace}/${about.route.name}`);
          break;
        case 'tenant':
          key += part(about.tenant);
          break;
      }
    }
    for (const h of headers) {
      key += about.apiKey?.header === h ? '*' : part(ctx.headers[h]);
      if (key.length > MAX_KEY_LENGTH) return undefined;
    }
    return key.length > MAX_KEY_LENGTH ? undefined : key;
  };
  return Object.assign(key, { sourceIpOnly });
}

function part(value: string | undefined): string {
  return value === undefined ? '-' : `${value.length}:${value}`;
}
