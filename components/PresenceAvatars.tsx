'use client';

/** Everyone present: initials in their colour, full name on hover, yourself marked. */
import { initialsOf } from '../lib/collab/identity';
import type { PresentUser } from '../lib/collab/use-collab-session';

export function PresenceAvatars({ users }: { users: readonly PresentUser[] }) {
  return (
    <ul className="avatars" aria-label={`${users.length} ${users.length === 1 ? 'person' : 'people'} present`} data-testid="avatars">
      {users.map((user) => {
        const label = `${user.name}${user.isSelf ? ' (you)' : ''}${user.isViewer ? ' · viewer' : ''}`;
        return (
          <li
            key={user.clientId}
            className={`avatar${user.isSelf ? ' avatar-self' : ''}`}
            style={{ backgroundColor: user.color }}
            title={label}
            aria-label={label}
          >
            {initialsOf(user.name)}
          </li>
        );
      })}
    </ul>
  );
}
