/** The documents this browser has opened, with their titles and when they were last opened. */

export interface RecentDocument {
  readonly id: string;
  readonly title: string;
  readonly openedAt: number;
  /** The share-link token this browser opened it with, so the list can reopen it. */
  readonly token?: string;
}

const STORAGE_KEY = 'inkwell:recent-documents';
const MAX_RECENT = 50;

/** Newest first. */
export function loadRecentDocuments(): RecentDocument[] {
  try {
    const parsed = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? '[]') as unknown;
    if (!Array.isArray(parsed)) return [];
    return parsed
      .filter(
        (entry): entry is RecentDocument =>
          typeof entry?.id === 'string' && typeof entry?.title === 'string' && typeof entry?.openedAt === 'number',
      )
      .sort((a, b) => b.openedAt - a.openedAt);
  } catch {
    return [];
  }
}

function store(documents: RecentDocument[]): void {
  localStorage.setItem(STORAGE_KEY, JSON.stringify(documents.slice(0, MAX_RECENT)));
}

/** Records that `id` was opened now with `token`, keeping one entry per document. */
export function rememberDocument(id: string, title: string, token?: string): void {
  const others = loadRecentDocuments().filter((entry) => entry.id !== id);
  store([{ id, title, openedAt: Date.now(), ...(token ? { token } : {}) }, ...others]);
}

/** The token remembered for `id`, if any. */
export function rememberedToken(id: string): string | undefined {
  return loadRecentDocuments().find((entry) => entry.id === id)?.token;
}

/** Updates the remembered title without changing when it was opened. */
export function renameRememberedDocument(id: string, title: string): void {
  store(loadRecentDocuments().map((entry) => (entry.id === id ? { ...entry, title } : entry)));
}

/** Removes `id` from the list (the document itself is untouched). */
export function forgetDocument(id: string): void {
  store(loadRecentDocuments().filter((entry) => entry.id !== id));
}
