/** Component ids are `type` or `type/name`, as in the Collector (`otlp`, `otlp/jaeger`). */
export interface ComponentId {
  readonly type: string;
  readonly name: string;
}

const ID_PART = /^[a-zA-Z][0-9a-zA-Z_]*$/;
const NAME_PART = /^[^\s/]+$/;

export function parseId(id: string): ComponentId | string {
  const slash = id.indexOf('/');
  const type = slash < 0 ? id : id.slice(0, slash);
  const name = slash < 0 ? '' : id.slice(slash + 1);
  if (!ID_PART.test(type)) {
    return `invalid component id "${id}": the type must start with a letter and contain only letters, digits and "_"`;
  }
  if (slash >= 0 && !NAME_PART.test(name)) {
    return `invalid component id "${id}": the name after "/" must be non-empty, without spaces or "/"`;
  }
  return { type, name };
}
