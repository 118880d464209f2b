// json-logic-js ships no types; the tests use it only as the reference interpreter.
declare module "json-logic-js" {
  const jsonLogic: {
    apply(logic: unknown, data?: unknown): unknown;
    truthy(value: unknown): boolean;
    add_operation(name: string, fn: (...args: unknown[]) => unknown): void;
    is_logic(logic: unknown): boolean;
  };
  export default jsonLogic;
}
