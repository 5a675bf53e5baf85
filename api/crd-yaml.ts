// Renders a CRD as the YAML committed in config/crd/ (shared by the generator and the drift test).
import { stringify } from 'yaml';
import type { CustomResourceDefinition } from './crds.ts';

export function renderCrdYaml(crd: CustomResourceDefinition): string {
  return `# Generated from api/ by hack/gen-crds.ts (make generate). Do not edit by hand.\n${stringify(crd, { lineWidth: 0 })}`;
}
