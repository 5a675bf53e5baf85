// config/webhook/validating-webhook-configuration.yaml is this rendering of the registration for the
// default install (the Service in tenantgate-system; the caBundle is filled in by the running webhook, or
// by cert-manager's CA injector). Regenerate: node webhooks/registration-yaml.ts > config/webhook/...
import { stringify } from 'yaml';
import {
  DEFAULT_OPERATOR_NAMESPACE,
  DEFAULT_SERVICE_NAME,
  validatingWebhookConfiguration,
} from './registration.ts';

export function defaultRegistrationYaml(): string {
  const obj = validatingWebhookConfiguration({
    clientConfig: { service: { namespace: DEFAULT_OPERATOR_NAMESPACE, name: DEFAULT_SERVICE_NAME } },
    operatorNamespace: DEFAULT_OPERATOR_NAMESPACE,
  });
  return `# Generated from webhooks/registration.ts (node webhooks/registration-yaml.ts). Do not edit by hand.\n# caBundle: patched in by the running webhook (self-managed certificates), or see cert-manager/.\n${stringify(obj, { lineWidth: 0, aliasDuplicateObjects: false })}`;
}

if (import.meta.main) process.stdout.write(defaultRegistrationYaml());
