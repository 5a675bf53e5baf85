// How the proxy normalises request paths (proxy/runtime/request-target.ts): merging repeated slashes and
// what an encoded `/` or `\` gets. Each setting is a startProxy option, else an environment variable (so
// `tenantgate run` and `tenantgate local` are configured without flags of their own), else the default.
//
//   option          flag of `tenantgate proxy`   environment                    default
//   mergeSlashes    --merge-slashes=BOOL          TENANTGATE_MERGE_SLASHES       true
//   escapedSlashes  --escaped-slashes ACTION      TENANTGATE_ESCAPED_SLASHES     reject
import { defineError } from '../lib/errors.ts';
import { parseBoolean } from './policy-settings.ts';
import {
  DEFAULT_REQUEST_TARGET_OPTIONS,
  ESCAPED_SLASHES_ACTIONS,
  type EscapedSlashesAction,
  type RequestTargetOptions,
} from './runtime/request-target.ts';

export const RequestTargetSettingError = defineError(
  'TG_PROXY_REQUEST_TARGET_SETTING',
  'proxy request-target setting %s: %s',
);

export const REQUEST_TARGET_ENV = {
  mergeSlashes: 'TENANTGATE_MERGE_SLASHES',
  escapedSlashes: 'TENANTGATE_ESCAPED_SLASHES',
} as const;

/** The command-line spelling of the settings, shared by `tenantgate proxy` and `tenantgate explain`. */
export interface RequestTargetFlags {
  'merge-slashes'?: string;
  'escaped-slashes'?: string;
}

/** The settings the flags give (those not given stay unset); a bad value throws, naming the flag. */
export function requestTargetFromFlags(flags: RequestTargetFlags): Partial<RequestTargetOptions> {
  const out: { mergeSlashes?: boolean; escapedSlashes?: EscapedSlashesAction } = {};
  const merge = flags['merge-slashes'];
  if (merge !== undefined) {
    out.mergeSlashes = parseBoolean(merge);
    if (out.mergeSlashes === undefined)
      throw new RequestTargetSettingError(['--merge-slashes', `'${merge}' must be true or false`]);
  }
  const escaped = flags['escaped-slashes'];
  if (escaped !== undefined) {
    out.escapedSlashes = parseEscapedSlashesAction(escaped);
    if (out.escapedSlashes === undefined)
      throw new RequestTargetSettingError([
        '--escaped-slashes',
        `'${escaped}' must be one of ${ESCAPED_SLASHES_ACTIONS.join(', ')}`,
      ]);
  }
  return out;
}

export function parseEscapedSlashesAction(value: unknown): EscapedSlashesAction | undefined {
  return (ESCAPED_SLASHES_ACTIONS as readonly unknown[]).includes(value)
    ? (value as EscapedSlashesAction)
    : undefined;
}

/** Options first, then the environment, then the defaults; a bad value names the option or variable. */
export function resolveRequestTargetOptions(
  options: Partial<RequestTargetOptions> = {},
  env: Readonly<Record<string, string | undefined>> = process.env,
): Readonly<RequestTargetOptions> {
  const merge = options.mergeSlashes ?? (env[REQUEST_TARGET_ENV.mergeSlashes] || undefined);
  const escaped = options.escapedSlashes ?? (env[REQUEST_TARGET_ENV.escapedSlashes] || undefined);
  const from = (key: keyof typeof REQUEST_TARGET_ENV) =>
    options[key] !== undefined ? `option ${key}` : REQUEST_TARGET_ENV[key];
  const mergeSlashes =
    merge === undefined ? DEFAULT_REQUEST_TARGET_OPTIONS.mergeSlashes : parseBoolean(merge);
  if (mergeSlashes === undefined)
    throw new RequestTargetSettingError([from('mergeSlashes'), `'${String(merge)}' must be true or false`]);
  const escapedSlashes =
    escaped === undefined
      ? DEFAULT_REQUEST_TARGET_OPTIONS.escapedSlashes
      : parseEscapedSlashesAction(escaped);
  if (escapedSlashes === undefined)
    throw new RequestTargetSettingError([
      from('escapedSlashes'),
      `'${String(escaped)}' must be one of ${ESCAPED_SLASHES_ACTIONS.join(', ')}`,
    ]);
  return Object.freeze({ mergeSlashes, escapedSlashes });
}
