/**
 * Input ids: hex sha256 of a submission's canonical (RFC 8785) bytes, so the
 * same submission has the same id on every node and in every block. The
 * canonical text costs about 6 us per 360-byte object (runtime/cells/types.ts,
 * BlockInput.bytes), so ids are remembered per submission object: the
 * objects the mempool hands out are the ones a proposer puts in its block.
 */
import { createHash } from "node:crypto";
import { canonicalString, type Json } from "../core/canonical.js";

const ids = new WeakMap<object, string>();

/** A submission's id, canonical text and its UTF-8 length. */
export interface Identity {
  id: string;
  text: string;
  bytes: number;
}

/** An input id with the submission's canonical text, computed (and the id remembered for inputId). */
export function identify(submission: Json): Identity {
  const text = canonicalString(submission);
  const id = createHash("sha256").update(text, "utf8").digest("hex");
  if (typeof submission === "object" && submission !== null) ids.set(submission, id);
  return { id, text, bytes: Buffer.byteLength(text, "utf8") };
}

/** The id of `submission` (remembered per object). */
export function inputId(submission: Json): string {
  if (typeof submission === "object" && submission !== null) {
    return ids.get(submission) ?? identify(submission).id;
  }
  return identify(submission).id;
}

/**
 * The id answered for a submission that has no canonical encoding (it cannot be an input, and no
 * sha256 is all zeros in practice): its refusal still carries an id, as every answer does.
 */
export const NO_ENCODING_ID = "0".repeat(64);

/** inputId, or NO_ENCODING_ID for a submission RFC 8785 cannot encode. */
export function inputIdOrNone(submission: Json): string {
  try {
    return inputId(submission);
  } catch {
    return NO_ENCODING_ID;
  }
}

/** Remembers that `submission` has the id `id` (for objects parsed from stored text of that id). */
export function rememberId(submission: Json, id: string): void {
  if (typeof submission === "object" && submission !== null) ids.set(submission, id);
}
