'use client';

/**
 * "Saving…" until the relay reports this browser's changes on disk, then "All
 * changes saved"; "Not saved, retrying…" while the relay cannot write them; an
 * alert when the relay refused them for the document's size.
 */
import type { SaveStatus } from '../lib/collab/collab-session';

const TEXT: Record<SaveStatus, string> = {
  saved: 'All changes saved',
  saving: 'Saving…',
  'not-saved': 'Not saved, retrying…',
  'too-large': 'This document has reached its size limit: new changes are not saved',
};

export function SaveBadge({ status }: { status: SaveStatus }) {
  return (
    <span className={`badge badge-${status}`} role={status === 'too-large' || status === 'not-saved' ? 'alert' : 'status'} data-testid="save-status" data-state={status}>
      {TEXT[status]}
    </span>
  );
}
