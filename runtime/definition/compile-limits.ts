/**
 * `limits:` of the channel (inputs, outputs, blocks) and of a cell (its code
 * hooks), with the defaults that apply where nothing is written.
 */
import type { Json } from "../core/canonical.js";
import { isObj, num, type Obj } from "./compile-context.js";
import type { BlockLimitsPlan, InputLimitsPlan, LimitsPlan, OutputLimitsPlan } from "./plan.js";

/** An input's size and depth where the channel writes no `limits:` (schemas/channel.schema.json gives the same defaults). */
export const DEFAULT_INPUT_LIMITS = { maxBytes: 65_536, maxDepth: 32 } as const;
/** A cell's hook limits where it writes no `limits:`. */
export const DEFAULT_CODE_LIMITS = { memoryMb: 32, timeMs: 50, blockTimeMs: 2_000 } as const;
/** The outputs of an input and of a block where the channel writes no `limits:`. */
export const DEFAULT_OUTPUT_LIMITS = { perInput: 64, perInputBytes: 262_144, perBlock: 10_000, perBlockBytes: 16_777_216 } as const;
/** What a block carries where the channel writes no `limits:`. */
export const DEFAULT_BLOCK_LIMITS = { maxBytes: 786_432, maxInputs: 1_000 } as const;

/** The channel's limits in force, and the keys it wrote (lint points at them). */
export interface ChannelLimitsPlan {
  input: InputLimitsPlan;
  output: OutputLimitsPlan;
  block: BlockLimitsPlan;
  written: ReadonlySet<string>;
}

/** The channel's `limits:` (absent: the defaults). */
export function compileChannelLimits(written: Json | undefined): ChannelLimitsPlan {
  const l: Obj = isObj(written) ? written : {};
  return {
    input: { maxBytes: num(l.maxInputBytes, DEFAULT_INPUT_LIMITS.maxBytes), maxDepth: num(l.maxDepth, DEFAULT_INPUT_LIMITS.maxDepth) },
    output: {
      perInput: num(l.maxOutputsPerInput, DEFAULT_OUTPUT_LIMITS.perInput),
      perInputBytes: num(l.maxOutputBytesPerInput, DEFAULT_OUTPUT_LIMITS.perInputBytes),
      perBlock: num(l.maxOutputsPerBlock, DEFAULT_OUTPUT_LIMITS.perBlock),
      perBlockBytes: num(l.maxOutputBytesPerBlock, DEFAULT_OUTPUT_LIMITS.perBlockBytes),
    },
    block: { maxBytes: num(l.maxBlockBytes, DEFAULT_BLOCK_LIMITS.maxBytes), maxInputs: num(l.maxBlockInputs, DEFAULT_BLOCK_LIMITS.maxInputs) },
    written: new Set(Object.keys(l)),
  };
}

/** A cell's `limits:` for its code hooks (absent: the defaults). */
export function compileCellLimits(written: Json | undefined): LimitsPlan {
  const l: Obj = isObj(written) ? written : {};
  return {
    memoryMb: num(l.memoryMb, DEFAULT_CODE_LIMITS.memoryMb),
    timeMs: num(l.timeMs, DEFAULT_CODE_LIMITS.timeMs),
    blockTimeMs: num(l.blockTimeMs, DEFAULT_CODE_LIMITS.blockTimeMs),
  };
}
