// A tiny OpenAPI v3 schema builder whose values carry their TypeScript type. The CRD YAML in config/crd/
// is generated from these schemas (hack/gen-crds.ts) and the TypeScript types in api/ are inferred from
// them (`Infer<typeof x>`), so the two cannot drift: there is one source.

/** The subset of apiextensions.k8s.io/v1 JSONSchemaProps that our CRDs use. */
export interface JSONSchemaProps {
  type?: 'object' | 'array' | 'string' | 'integer' | 'boolean';
  description?: string;
  properties?: Record<string, JSONSchemaProps>;
  required?: string[];
  items?: JSONSchemaProps;
  additionalProperties?: JSONSchemaProps;
  enum?: string[];
  default?: unknown;
  pattern?: string;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-validations'?: { rule: string; message: string; fieldPath?: string; reason?: string }[];
}

/** A schema node; `_type` exists only at the type level, to carry the TypeScript type. */
export interface Node<T> {
  readonly schema: JSONSchemaProps;
  readonly _type?: T;
}

export type Infer<N> = N extends Node<infer T> ? T : never;

type Simplify<T> = { [K in keyof T]: T[K] } & {};
type Common = Pick<JSONSchemaProps, 'description' | 'x-kubernetes-validations'>;

export const DNS1123_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
export const DNS1123_SUBDOMAIN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';

export function string(
  opts: Common & Pick<JSONSchemaProps, 'pattern' | 'format' | 'minLength' | 'maxLength' | 'default'> = {},
): Node<string> {
  return { schema: { type: 'string', ...opts } };
}

export function stringEnum<const E extends readonly string[]>(
  values: E,
  opts: Common & { default?: E[number] } = {},
): Node<E[number]> {
  return { schema: { type: 'string', enum: [...values], ...opts } };
}

export function integer(
  opts: Common & Pick<JSONSchemaProps, 'minimum' | 'maximum' | 'default' | 'format'> = {},
): Node<number> {
  return { schema: { type: 'integer', ...opts } };
}

export function boolean(opts: Common & { default?: boolean } = {}): Node<boolean> {
  return { schema: { type: 'boolean', ...opts } };
}

export function array<T>(
  items: Node<T>,
  opts: Common &
    Pick<
      JSONSchemaProps,
      'minItems' | 'maxItems' | 'x-kubernetes-list-type' | 'x-kubernetes-list-map-keys'
    > = {},
): Node<T[]> {
  return { schema: { type: 'array', items: items.schema, ...opts } };
}

/** A string-keyed map of one value type (e.g. labels). */
export function record<T>(
  values: Node<T>,
  opts: Common & Pick<JSONSchemaProps, 'maxLength'> = {},
): Node<Record<string, T>> {
  return { schema: { type: 'object', additionalProperties: values.schema, ...opts } };
}

/** Free-form JSON kept as given (x-kubernetes-preserve-unknown-fields). */
export function freeform(opts: Common = {}): Node<Record<string, unknown>> {
  return { schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, ...opts } };
}

type Props = Record<string, Node<unknown>>;
type ObjectType<P extends Props, R extends keyof P> = Simplify<
  { [K in R]: Infer<P[K]> } & { [K in Exclude<keyof P, R>]?: Infer<P[K]> }
>;

export function object<P extends Props, R extends keyof P & string = never>(
  properties: P,
  opts: Common & { required?: readonly R[] } = {},
): Node<ObjectType<P, R>> {
  const { required, ...rest } = opts;
  const schema: JSONSchemaProps = {
    type: 'object',
    properties: Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, v.schema])),
    ...rest,
  };
  if (required?.length) schema.required = [...required];
  return { schema };
}
