/** The local person's identity, asked once and remembered in localStorage. */
import { useCallback, useEffect, useState } from 'react';

import { loadIdentity, randomIdentity, saveIdentity, type Identity } from './identity';

/** `identity` is the remembered one (or a random default until saved); `needsAsking` is true on first visit. */
export function useIdentity(): { identity: Identity | null; needsAsking: boolean; save(identity: Identity): void } {
  const [state, setState] = useState<{ identity: Identity | null; needsAsking: boolean }>({
    identity: null,
    needsAsking: false,
  });
  useEffect(() => {
    const remembered = loadIdentity();
    setState(remembered ? { identity: remembered, needsAsking: false } : { identity: randomIdentity(), needsAsking: true });
  }, []);
  const save = useCallback((identity: Identity) => {
    saveIdentity(identity);
    setState({ identity, needsAsking: false });
  }, []);
  return { ...state, save };
}
