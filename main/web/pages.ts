/**
 * The few pages the server writes itself: the one a request without the token gets, and the one
 * shown while the renderer is not built. Plain HTML with no script (the CSP allows none inline),
 * so they work even when nothing else does.
 */

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Purification Lab</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 4rem auto; padding: 0 1rem; color: #1d2430; background: #fafafa; }
  @media (prefers-color-scheme: dark) { body { color: #e4e8ee; background: #14171c; } code { background: #252a33; } }
  h1 { font-size: 1.4rem; }
  code { background: #eceef1; padding: 0.1em 0.3em; border-radius: 3px; }
</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
${body}
</body>
</html>
`;
}

/** 401: no valid token. The URL with the token is only in the terminal that started the server. */
export function unauthorisedPage(): string {
  return page(
    'Open the link printed in the terminal',
    `<p>This Purification Lab server only answers to the link it printed when it started: <code>http://127.0.0.1:PORT/?token=…</code>.
The token changes at every start, so links from an earlier session stop working.</p>
<p>Find the line <code>Purification Lab: http://127.0.0.1:…</code> in the terminal where you ran <code>npm run serve</code> (or <code>npm start</code>) and open that link.</p>`,
  );
}

/** 200 in place of the app when `renderer/dist` has no index.html, saying why and what to do. */
export function notBuiltPage(reason: string): string {
  return page(
    'The workbench UI is not built',
    `<p>${escapeHtml(reason)}</p>
<p>The API is running. Build the UI with <code>npx vite build</code> and reload this page, or restart with <code>npm run serve</code>, which builds it when it can.</p>`,
  );
}
