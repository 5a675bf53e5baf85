// Writes config/crd/*.yaml from the schemas in api/ (run: `make generate`).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crdFileName, crds } from '../api/crds.ts';
import { renderCrdYaml } from '../api/crd-yaml.ts';

const dir = join(import.meta.dirname, '..', 'config', 'crd');
for (const crd of crds) {
  const file = join(dir, crdFileName(crd));
  writeFileSync(file, renderCrdYaml(crd));
  console.log(`wrote ${file}`);
}
