/** Token amounts (bigint inside, decimal strings outside): defined beside the token's compiler so lint and runtime parse alike. */
export { MAX_AMOUNT, MAX_AMOUNT_DIGITS, formatBaseUnits, formatUnits, parseBaseUnits, parseUnits } from "../definition/token-amount.js";
