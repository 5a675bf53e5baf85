import { Writable } from 'node:stream';
import winston from 'winston';
import { beforeAll, describe, expect, it } from 'vitest';
import { registry } from '../../lib/metrics.ts';
import type { PolicyEngine } from '../../policies/engine.ts';
import { sha256 } from './api-key.ts';
import type { AccessEngine } from './engine.ts';
import { AccessRequestPolicy, hostname, InvalidAccessPolicy } from './policy.ts';
import { builtinEngine, request } from '../../test/helpers/access.ts';

let engine: PolicyEngine;
beforeAll(async () => {
  engine = await builtinEngine();
});

/** A debug-level logger whose lines land in `lines`. */
function capture(): { logger: winston.Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const logger = winston.createLogger({
    level: 'debug',
    format: winston.format.json(),
    transports: [new winston.transports.Stream({ stream })],
  });
  return { logger, lines };
}

const route = { kind: 'HTTPRoute', namespace: 'team', name: 'api' };

describe('AccessRequestPolicy', () => {
  it('never logs credentials of a refused request, not even its wrong API key', async () => {
    const { logger, lines } = capture();
    const policy = new AccessRequestPolicy({
      name: 'team/keys',
      rule: 'api-key',
      parameters: {},
      apiKey: { header: 'x-team-key', digests: [sha256('the-right-key')] },
      route,
      engine,
      logger,
    });
    const verdict = policy.evaluate(
      request({
        headers: {
          'x-team-key': 'a-wrong-key-1234',
          authorization: 'Bearer tok-5678',
          cookie: 'sid=cookie-9012',
          'x-request-id': 'req-1',
        },
      }),
    );
    expect(verdict).toMatchObject({ allow: false, status: 403 });
    await new Promise((r) => setImmediate(r));
    const text = lines.join('');
    expect(text).toContain('request refused by AccessPolicy');
    expect(text).toContain('req-1'); // the line is useful: ordinary headers are there
    for (const secret of ['a-wrong-key-1234', 'tok-5678', 'cookie-9012', 'the-right-key'])
      expect(text).not.toContain(secret);
  });

  it("answers a rule's own refusal status, and 403 for a status that is not a refusal", () => {
    const fake = (status: number): AccessEngine => ({
      evaluateAccess: () => ({ allow: false, status, reason: 'no' }),
      accessRules: () => [],
      evaluateAdmission: () => ({ decisions: [], denied: false, seconds: 0 }),
      bundles: () => [],
      generation: 0,
      accessReads: () => undefined,
    });
    const answer = (status: number) =>
      new AccessRequestPolicy({
        name: 'team/x',
        rule: 'custom',
        parameters: {},
        route,
        engine: fake(status),
      }).evaluate(request());
    expect(answer(401)).toMatchObject({ status: 401, reason: 'no (AccessPolicy team/x)' });
    expect(answer(200)).toMatchObject({ status: 403 });
    expect(answer(302)).toMatchObject({ status: 403 });
  });

  it('counts decisions per policy for tenantgate_access_decisions_total', async () => {
    const policy = new AccessRequestPolicy({
      name: 'team/counted',
      rule: 'methods',
      parameters: { methods: ['GET'] },
      route,
      engine,
    });
    policy.evaluate(request({ method: 'GET' }));
    policy.evaluate(request({ method: 'PUT' }));
    policy.evaluate(request({ method: 'PUT' }));
    new InvalidAccessPolicy('team/broken').evaluate();
    const text = await registry.getSingleMetricAsString('tenantgate_access_decisions_total');
    expect(text).toContain('tenantgate_access_decisions_total{policy="team/counted",decision="allowed"} 1');
    expect(text).toContain('tenantgate_access_decisions_total{policy="team/counted",decision="denied"} 2');
    expect(text).toContain('tenantgate_access_decisions_total{policy="team/broken",decision="error"} 1');
  });
});

describe('hostname', () => {
  it('drops the port and lower-cases', () => {
    expect(hostname('API.Example.com:8080')).toBe('api.example.com');
    expect(hostname('api.example.com')).toBe('api.example.com');
    expect(hostname('[::1]:10080')).toBe('[::1]');
    expect(hostname('')).toBe('');
  });
});
