/** JSON values as podid stores them (trust policies, manifests, plan documents). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue };
export type JsonObject = { [k: string]: unknown };

/** A JSON or YAML mapping: an object that is not null and not an array. */
export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
