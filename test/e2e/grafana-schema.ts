// Checks a Grafana dashboard (the classic JSON model that Dashboards > Import takes) against Grafana's own
// schema: the TypeScript types of @grafana/schema, generated from Grafana's dashboard kind. The JSON is
// compiled as an object literal `satisfies Dashboard`, so a misspelt or misplaced field, a wrong type or an
// unknown enum value is a compile error.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { projectRoot } from '../../kube/envtest/paths.ts';

/** Import-only metadata of a shared dashboard, not part of the dashboard model. */
const IMPORT_METADATA = ['__inputs', '__requires', '__elements'];

const source = (dashboard: Record<string, unknown>) => `import type { Dashboard } from '@grafana/schema';
// JSON holds the values of Grafana's TypeScript string enums, not the enums: compare with their values.
type Plain<T> = T extends string
  ? \`\${T}\`
  : T extends readonly (infer U)[]
    ? Plain<U>[]
    : T extends object
      ? { [K in keyof T]: Plain<T[K]> }
      : T;
export const dashboard = ${JSON.stringify(dashboard, null, 1)} satisfies Plain<Dashboard>;
`;

/** The schema's complaints about the dashboard, as "line: message" (empty when it conforms). */
export function grafanaSchemaProblems(dashboard: Record<string, unknown>): string[] {
  const model = Object.fromEntries(Object.entries(dashboard).filter(([k]) => !IMPORT_METADATA.includes(k)));
  // inside the project, so that '@grafana/schema' resolves from its node_modules
  mkdirSync(join(projectRoot, '.tenantgate'), { recursive: true });
  const dir = mkdtempSync(join(projectRoot, '.tenantgate', 'grafana-schema-'));
  try {
    const file = join(dir, 'dashboard.ts');
    writeFileSync(file, source(model));
    const program = ts.createProgram([file], {
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
    });
    return ts.getPreEmitDiagnostics(program).map((d) => {
      const line =
        d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line + 1 : 0;
      return `${line}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n').slice(0, 300)}`;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
