/**
 * json-logic truthiness (jsonlogic.com/truthy), the reference json-logic-js
 * uses: false, 0, "", null (and undefined) and the empty list are false;
 * everything else, including {}, is true. It reads no property of the value,
 * so data cannot influence it through keys such as `constructor` or `length`.
 */
export function isTruthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  return Boolean(value);
}
