/** Loads the sequential editing traces in tests/fixtures (CC BY 4.0, see tests/fixtures/README.md). */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

/** One edit: at code point `position`, delete `deleteCount` characters, then insert `insertText`. */
export type TracePatch = readonly [position: number, deleteCount: number, insertText: string];

/** A sequential trace: every patch in order turns `startContent` into `endContent`. */
export interface EditingTrace {
  readonly startContent: string;
  readonly endContent: string;
  readonly patches: readonly TracePatch[];
}

/** Reads a gzipped sequential trace from tests/fixtures. */
export function loadEditingTrace(fileName: string): EditingTrace {
  const path = new URL(`../fixtures/${fileName}`, import.meta.url);
  const raw = JSON.parse(gunzipSync(readFileSync(path)).toString('utf8')) as {
    startContent: string;
    endContent: string;
    txns: { patches: TracePatch[] }[];
  };
  return {
    startContent: raw.startContent,
    endContent: raw.endContent,
    patches: raw.txns.flatMap((txn) => txn.patches),
  };
}
