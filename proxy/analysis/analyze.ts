// One pass over a ProxyInputs snapshot that both the route-table compiler and the status computation
// read, so that what the proxy serves and what the status says can never disagree.
import { analyzeGateways, type GatewayAnalysisOptions, type GatewayInfo } from './gateways.ts';
import { indexInputs, type InputsIndex } from './index-inputs.ts';
import { analyzeRoute, type RouteInfo } from './routes.ts';
import type { ProxyInputs } from '../model/inputs.ts';

export interface Analysis {
  index: InputsIndex;
  gateways: GatewayInfo[];
  routes: RouteInfo[];
}

export type AnalysisOptions = GatewayAnalysisOptions;

export function analyze(inputs: ProxyInputs, options: AnalysisOptions): Analysis {
  const index = indexInputs(inputs);
  const gateways = analyzeGateways(index, options);
  const byKey = new Map(gateways.map((g) => [g.key, g]));
  const routes = [
    ...inputs.httpRoutes
      .filter((r) => r?.metadata?.name)
      .map((r) => analyzeRoute(r, 'HTTPRoute', byKey, index)),
    ...inputs.grpcRoutes
      .filter((r) => r?.metadata?.name)
      .map((r) => analyzeRoute(r, 'GRPCRoute', byKey, index)),
  ];
  return { index, gateways, routes };
}
