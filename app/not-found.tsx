/**
 * The 404 page (unknown paths, malformed document ids). Replaces Next's built-in
 * one, whose inline <style> carries no CSP nonce and would be blocked.
 */
export default function NotFound() {
  return (
    <main className="access-message" role="alert">
      <a className="brand" href="/">
        Inkwell
      </a>
      <p>There is no page here. Check that you copied the whole link.</p>
    </main>
  );
}
