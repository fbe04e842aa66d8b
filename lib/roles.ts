/**
 * What each share-link role may do. Pure data, safe for the browser: the relay
 * enforces it, and the app reads it only to shape its UI.
 */

/** Capabilities of every role. Adding `commenter` is one more entry here. */
export const ROLES = {
  /** The document's creator: edits, shares every role's link, and resets links. */
  owner: { canEdit: true, canResetLinks: true, mayShare: ['owner', 'editor', 'viewer'] },
  editor: { canEdit: true, canResetLinks: false, mayShare: ['editor', 'viewer'] },
  viewer: { canEdit: false, canResetLinks: false, mayShare: ['viewer'] },
} as const satisfies Record<string, { canEdit: boolean; canResetLinks: boolean; mayShare: readonly string[] }>;

export type Role = keyof typeof ROLES;

/** Every role name, most powerful first. */
export const ROLE_NAMES = Object.keys(ROLES) as readonly Role[];

/** True when `value` names a role. */
export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && Object.hasOwn(ROLES, value);
}
