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
  }, [docId]);
  const replaceToken = useCallback((next: string) => {
    writeTokenToLocation(next);
    setToken(next);
  }, []);
  return { token, replaceToken };
}
