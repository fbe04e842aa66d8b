'use client';

/** Connection status: connecting, live, offline, or reconnecting with the next attempt's countdown. */
import { useEffect, useState } from 'react';

import type { ConnectionStatus } from '../lib/collab/collab-session';

export function ConnectionBadge({ status }: { status: ConnectionStatus }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (status.kind !== 'reconnecting') return undefined;
    const timer = setInterval(() => setNow(Date.now()), 250);
    return () => clearInterval(timer);
  }, [status]);
  const text = ((): string => {
    switch (status.kind) {
      case 'connecting':
        return 'Connecting…';
      case 'live':
        return 'Live';
      case 'offline':
        return 'Offline';
      case 'reconnecting': {
        const seconds = Math.max(0, Math.ceil((status.nextAttemptAt - now) / 1000));
        return `Reconnecting in ${seconds}s`;
      }
    }
  })();
  return (
    <span className={`badge badge-${status.kind}`} role="status" data-testid="connection-status" data-state={status.kind}>
      {text}
    </span>
  );
}
