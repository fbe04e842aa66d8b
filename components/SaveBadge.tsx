'use client';

/** "Saving…" until the relay reports this browser's changes on disk, then "All changes saved". */
import type { SaveStatus } from '../lib/collab/collab-session';

export function SaveBadge({ status }: { status: SaveStatus }) {
  return (
    <span className={`badge badge-${status}`} role="status" data-testid="save-status" data-state={status}>
      {status === 'saved' ? 'All changes saved' : 'Saving…'}
    </span>
  );
}
