import { notFound } from 'next/navigation';

import { DocumentEditor } from '../../../components/DocumentEditor';
import { parseDocId } from '../../../lib/ids';

export default async function DocumentPage({ params }: { params: Promise<{ id: string }> }) {
  const docId = parseDocId((await params).id);
  if (!docId) notFound();
  return <DocumentEditor docId={docId} />;
}
