/** The page's share-link token: from the URL fragment, else the one this browser remembered. */
import { useCallback, useEffect, useState } from 'react';

import { rememberedToken } from './recent-documents';
import { readTokenFromLocation, writeTokenToLocation } from './share-token';

/** `token` is `undefined` until read in the browser, `null` when there is none. */
export function useShareToken(docId: string): { token: string | null | undefined; replaceToken(token: string): void } {
  const [token, setToken] = useState<string | null | undefined>(undefined);
  useEffect(() => {
    const fromLocation = readTokenFromLocation();
    const found = fromLocation ?? rememberedToken(docId) ?? null;
    if (found && !fromLocation) writeTokenToLocation(found);
    setToken(found);
    // Pasting another link of the same document into the address bar changes only the fragment: no page load.
    const onHashChange = (): void => {
      const pasted = readTokenFromLocation();
      if (pasted) setToken(pasted);
    };
    window.addEventListener('hashchange', onHashChange);
    return () => window.removeEventListener('hashchange', onHashChange);
  }, [docId]);
  const replaceToken = useCallback((next: string) => {
    writeTokenToLocation(next);
    setToken(next);
  }, []);
  return { token, replaceToken };
}
