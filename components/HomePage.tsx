'use client';

/** Home: create a document, or reopen one this browser has visited. */
import { useRouter } from 'next/navigation';
import { useEffect, useState } from 'react';

import { keepCurrentPageOffline } from '../lib/collab/offline-pages';
import { createDocument } from '../lib/collab/links-client';
import { forgetLocalCopy } from '../lib/collab/local-copy';
import { loadRecentDocuments, rememberDocument, type RecentDocument } from '../lib/collab/recent-documents';

const TIME_FORMAT = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export function HomePage() {
  const router = useRouter();
  const [recent, setRecent] = useState<RecentDocument[]>([]);
  const [isCreating, setIsCreating] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const create = async (): Promise<void> => {
    setIsCreating(true);
    setError(null);
    try {
      const { docId, token } = await createDocument();
      rememberDocument(docId, '', token);
      router.push(`/d/${docId}#k=${token}`);
    } catch {
      setError('Could not create a document. New documents need a connection.');
      setIsCreating(false);
    }
  };
  useEffect(() => {
    setRecent(loadRecentDocuments());
    keepCurrentPageOffline().catch(() => undefined);
  }, []);

  return (
    <main className="home">
      <h1>Inkwell</h1>
      <p className="tagline">Write together, in real time, online or off.</p>
      <button type="button" className="primary" disabled={isCreating} onClick={() => void create()}>
        {isCreating ? 'Creating…' : 'New document'}
      </button>
      {error && <p role="alert">{error}</p>}
      <section aria-labelledby="recent-heading">
        <h2 id="recent-heading">Recent documents</h2>
        {recent.length === 0 ? (
          <p className="empty">Documents you open appear here.</p>
        ) : (
          <ul className="recent-list">
            {recent.map((entry) => (
              <li key={entry.id}>
                <a href={entry.token ? `/d/${entry.id}#k=${entry.token}` : `/d/${entry.id}`}>{entry.title || 'Untitled document'}</a>
                <time dateTime={new Date(entry.openedAt).toISOString()}>{TIME_FORMAT.format(entry.openedAt)}</time>
                <button
                  type="button"
                  aria-label={`Remove ${entry.title || 'Untitled document'} from the list`}
                  onClick={() => {
                    // The list entry goes at once; the offline copy and cached page follow.
                    forgetLocalCopy(entry.id).catch(reportError);
                    setRecent(loadRecentDocuments());
                  }}
                >
                  Remove
                </button>
              </li>
            ))}
          </ul>
        )}
      </section>
    </main>
  );
}
