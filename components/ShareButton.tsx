'use client';

/** Copies the document's link, with a visible confirmation. */
import { useState } from 'react';

export function ShareButton() {
  const [message, setMessage] = useState<string | null>(null);
  const share = async (): Promise<void> => {
    const link = window.location.href;
    try {
      await navigator.clipboard.writeText(link);
      setMessage('Link copied');
    } catch {
      window.prompt('Copy this link', link);
      setMessage('Link ready to copy');
    }
    setTimeout(() => setMessage(null), 2_500);
  };
  return (
    <div className="share">
      <button type="button" className="share-button" onClick={() => void share()}>
        Share
      </button>
      {message && (
        <span className="share-confirmation" role="status">
          {message}
        </span>
      )}
    </div>
  );
}
