/** JSON values as podid stores them (trust policies, manifests, plan documents). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue };
export type JsonObject = { [k: string]: unknown };
