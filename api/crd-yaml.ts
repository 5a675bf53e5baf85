// Renders a CRD as the YAML committed in config/crd/ (shared by the generator and the drift test). Schema
// nodes used in several places (a policy's settings at the top level and under defaults/overrides) are
// written out in full each time: no YAML anchors, which some tools (kustomize) do not expand.
import { stringify } from 'yaml';
import type { CustomResourceDefinition } from './crds.ts';

export function renderCrdYaml(crd: CustomResourceDefinition): string {
  return `# Generated from api/ by hack/gen-crds.ts (make generate). Do not edit by hand.\n${stringify(crd, { lineWidth: 0, aliasDuplicateObjects: false })}`;
}
