// Endpoint address translation for `tenantgate local`. The API server refuses loopback addresses in
// EndpointSlices, and a local control plane has no kubelet to run Pods, so local backends are published
// under a stand-in address (a TEST-NET one, e.g. 198.51.100.10) that the local proxy maps to where the
// backend really listens (127.0.0.1) — as kind's port mappings do. Never used in a real cluster.
import type { KubeObject } from '../../kube/types.ts';

export type EndpointAddressMap = Readonly<Record<string, string>>;

interface SliceLike extends KubeObject {
  endpoints?: { addresses?: string[] }[];
}

/** The slices with every mapped address replaced; slices without one are returned as they are. */
export function mapEndpointAddresses<T extends SliceLike>(
  slices: readonly T[],
  map: EndpointAddressMap,
): T[] {
  return slices.map((slice) => {
    if (!slice.endpoints?.some((e) => e.addresses?.some((a) => a in map))) return slice;
    return {
      ...slice,
      endpoints: slice.endpoints.map((e) => ({ ...e, addresses: e.addresses?.map((a) => map[a] ?? a) })),
    };
  });
}
