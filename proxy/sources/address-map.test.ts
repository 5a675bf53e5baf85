import { describe, expect, it } from 'vitest';
import { mapEndpointAddresses } from './address-map.ts';

const slice = (addresses: string[]) => ({
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: { name: 's', namespace: 'n' },
  endpoints: [{ addresses, conditions: { ready: true } }],
});

describe('mapEndpointAddresses', () => {
  it('replaces mapped addresses and keeps the rest of the endpoint', () => {
    const [out] = mapEndpointAddresses([slice(['198.51.100.10', '10.0.0.7'])], {
      '198.51.100.10': '127.0.0.1',
    });
    expect(out!.endpoints).toEqual([{ addresses: ['127.0.0.1', '10.0.0.7'], conditions: { ready: true } }]);
  });

  it('returns untouched slices as the same objects, and never edits its input', () => {
    const input = [slice(['10.0.0.7']), slice(['198.51.100.10'])];
    const out = mapEndpointAddresses(input, { '198.51.100.10': '127.0.0.1' });
    expect(out[0]).toBe(input[0]);
    expect(input[1]!.endpoints[0]!.addresses).toEqual(['198.51.100.10']);
  });
});
