/**
 * The awareness state Inkwell's app publishes (a person's name and colour, their
 * role, their caret), as a zod schema. The relay validates every state it
 * stores or forwards against it, and the browser validates every remote state
 * before the editor renders it: names are plain text of bounded length, colours
 * are `#rrggbb` and nothing else, carets are Yjs relative positions inside the
 * document body. Pure, and safe for the browser.
 */
import { z } from 'zod';

import { ROLE_NAMES } from './roles';

// In the browser zod must not compile parsers with `new Function`: the app's CSP
// forbids eval, and even zod's probe for it is reported as a violation. The relay
// keeps the compiled (faster) parsers.
if (typeof window !== 'undefined') z.config({ jitless: true });

/** The root XML fragment TipTap edits (`Collaboration`'s `field`); carets point into nothing else. */
export const DOCUMENT_BODY_FIELD = 'content';

/** Largest state, as encoded JSON (UTF-8 bytes), the relay stores or forwards. */
export const MAX_AWARENESS_STATE_BYTES = 2048;

/** Longest display name, in characters (code points). */
export const MAX_USER_NAME_LENGTH = 64;

const COLOR = /^#[0-9a-fA-F]{6}$/;
// Control characters (C0, DEL, C1) and bidirectional overrides could disguise a name as another.
const UNSAFE_NAME_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u;

const yjsId = z.strictObject({
  client: z.number().int().min(0).max(0xffff_ffff),
  clock: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
});

/**
 * `Y.RelativePosition` as JSON: an item, a nested type, or the body by name.
 * Yjs throws on a position with none of the three, and a root name would make
 * every reader create that root type, so the name may only be the body's.
 */
const relativePosition = z
  .strictObject({
    type: yjsId.nullable().optional(),
    tname: z.literal(DOCUMENT_BODY_FIELD).nullable().optional(),
    item: yjsId.nullable().optional(),
    assoc: z.number().int().min(-1).max(1).optional(),
  })
  .refine((position) => position.item != null || position.type != null || position.tname != null, 'names no position');

const user = z.strictObject({
  name: z
    .string()
    .refine((name) => [...name].length <= MAX_USER_NAME_LENGTH, `longer than ${MAX_USER_NAME_LENGTH} characters`)
    .refine((name) => !UNSAFE_NAME_CHARACTERS.test(name), 'holds control characters'),
  color: z.string().regex(COLOR, 'is not #rrggbb'),
});

/** Fields the app uses; any other top-level field is dropped (zod strips unknown keys). */
const awarenessState = z.object({
  user: user.optional(),
  role: z.enum(ROLE_NAMES as [string, ...string[]]).optional(),
  cursor: z.strictObject({ anchor: relativePosition, head: relativePosition }).nullable().optional(),
});

/** A validated awareness state. */
export type AwarenessState = z.infer<typeof awarenessState>;

/** The outcome of checking one state. `isExact`: nothing was dropped, so the state may be passed on as sent. */
export type AwarenessStateCheck =
  | { readonly ok: true; readonly state: AwarenessState; readonly isExact: boolean }
  | { readonly ok: false; readonly reason: string };

/** Checks a parsed state (anything `JSON.parse` returns) against the schema. */
export function checkAwarenessState(value: unknown): AwarenessStateCheck {
  const parsed = awarenessState.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, reason: issue ? `${issue.path.join('.') || 'state'}: ${issue.message}` : 'invalid state' };
  }
  // Only top-level keys can be stripped: nested objects are strict, so a mismatch fails above.
  const isExact = Object.keys(value as object).length === Object.keys(parsed.data).length;
  return { ok: true, state: parsed.data, isExact };
}

/** True for a colour the UI may put in a style: exactly `#rrggbb`. */
export function isSafeColor(value: unknown): value is string {
  return typeof value === 'string' && COLOR.test(value);
}
