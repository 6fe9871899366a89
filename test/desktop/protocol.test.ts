/**
 * The app:// protocol: which file a URL names, what it refuses (.. and its encodings, encoded
 * separators, absolute and drive paths, other hosts), and the handler's responses (files with
 * their types, the single-page fallback, the engine's export downloads, and the headers on all).
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exportPath } from '../../shared/api.ts';
import { createProtocolHandler, resolveProtocolPath, type ExportAnswer } from '../../main/desktop/protocol.ts';
import { appOrigin, contentSecurityPolicy } from '../../main/desktop/security.ts';

const root = mkdtempSync(join(tmpdir(), 'pl-protocol-'));
mkdirSync(join(root, 'assets'));
writeFileSync(join(root, 'index.html'), '<!doctype html><title>lab</title>');
writeFileSync(join(root, 'assets', 'index-abc.js'), 'console.log(1)');
writeFileSync(join(root, 'assets', 'style.css'), 'body{}');
writeFileSync(join(root, 'assets', 'font.woff2'), 'woff2');
writeFileSync(join(root, 'assets', 'a b.svg'), '<svg/>');
const outside = mkdtempSync(join(tmpdir(), 'pl-outside-'));
writeFileSync(join(outside, 'secret.txt'), 'secret');
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

describe('resolveProtocolPath', () => {
  it('maps app://lab paths to files under the root', () => {
    expect(resolveProtocolPath(root, `${appOrigin}/`)).toMatchObject({ ok: true, path: join(root, 'index.html') });
    expect(resolveProtocolPath(root, appOrigin)).toMatchObject({ ok: true, path: join(root, 'index.html') });
    expect(resolveProtocolPath(root, `${appOrigin}/index.html?x=1#/runs/abc`)).toMatchObject({ ok: true, path: join(root, 'index.html') });
    expect(resolveProtocolPath(root, `${appOrigin}/assets/index-abc.js`)).toMatchObject({ ok: true, path: join(root, 'assets', 'index-abc.js'), relative: 'assets/index-abc.js' });
    expect(resolveProtocolPath(root, `${appOrigin}/assets/a%20b.svg`)).toMatchObject({ ok: true, path: join(root, 'assets', 'a b.svg') });
    expect(resolveProtocolPath(root, `${appOrigin}/assets/`)).toMatchObject({ ok: true, path: join(root, 'assets', 'index.html') });
  });

  it('refuses .. and . segments, however they are written', () => {
    for (const path of ['/../secret.txt', '/assets/../../secret.txt', '/%2e%2e/secret.txt', '/%2E%2E/secret.txt', '/.%2e/secret.txt', '/%2e./x', '/./index.html', '/assets/%2e']) {
      const result = resolveProtocolPath(root, `${appOrigin}${path}`);
      expect(result.ok, path).toBe(false);
      expect(result).toMatchObject({ status: 403 });
    }
  });

  it('refuses encoded separators, absolute paths, drive letters and NUL', () => {
    for (const path of ['//etc/passwd', '/%2Fetc%2Fpasswd', '/..%2Fsecret.txt', '/..%5Csecret.txt', '/assets%5C..%5C..%5Csecret.txt', '/C:/Windows/win.ini', '/C%3A%5CWindows', '/index.html%00.js', `/${encodeURIComponent(outside)}${encodeURIComponent(sep)}secret.txt`]) {
      expect(resolveProtocolPath(root, `${appOrigin}${path}`).ok, path).toBe(false);
    }
    expect(resolveProtocolPath(root, `${appOrigin}/%E0%A4%A`)).toMatchObject({ ok: false, status: 400 });
  });

  it('refuses other schemes and hosts', () => {
    for (const url of ['file:///etc/passwd', 'https://lab/index.html', 'app://other/index.html', 'app://lab.evil.example/index.html', 'app://lab:8080/index.html', 'app://lab@evil/index.html', 'app:lab/index.html']) {
      expect(resolveProtocolPath(root, url), url).toMatchObject({ ok: false, status: 403 });
    }
  });

  it('never resolves outside the root, whatever the input', () => {
    const samples = ['/a/b/../../..', '/%2e%2e%2f%2e%2e', '/....//', '/a/./b', '/x/%2e%2e%2fy', '/\\..\\..\\x', '/%c0%ae%c0%ae/x', '/..;/x'];
    for (const path of samples) {
      const result = resolveProtocolPath(root, `${appOrigin}${path}`);
      if (result.ok) expect(result.path.startsWith(root + sep), path).toBe(true);
    }
  });
});

describe('the app:// handler', () => {
  const exports: { runId: string; target: string; format: string }[] = [];
  const handler = createProtocolHandler({
    root,
    exportFile: async (runId, target, format): Promise<ExportAnswer> => {
      exports.push({ runId, target, format });
      if (runId === '20260101-000000-abcd') return { kind: 'file', bytes: new TextEncoder().encode('<svg/>'), contentType: 'image/svg+xml; charset=utf-8', fileName: `${runId}-${target}.${format}` };
      return { kind: 'missing', message: `No run "${runId}"` };
    },
  });

  it('serves files with their content type and the security headers', async () => {
    const page = await handler(new Request(`${appOrigin}/`));
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toContain('<title>lab</title>');
    expect(page.headers.get('content-security-policy')).toBe(contentSecurityPolicy);
    expect((await handler(new Request(`${appOrigin}/assets/index-abc.js`))).headers.get('content-type')).toMatch(/^text\/javascript/);
    expect((await handler(new Request(`${appOrigin}/assets/style.css`))).headers.get('content-type')).toMatch(/^text\/css/);
    expect((await handler(new Request(`${appOrigin}/assets/font.woff2`))).headers.get('content-type')).toBe('font/woff2');
  });

  it('answers a view path with the page, a missing file with 404, a refused path with 403, other methods with 405', async () => {
    expect(await (await handler(new Request(`${appOrigin}/runs`))).text()).toContain('<title>lab</title>');
    expect((await handler(new Request(`${appOrigin}/assets/missing.js`))).status).toBe(404);
    // The URL parser already folds `..` and `%2e%2e` away (app://lab/etc/passwd, a view: the page)...
    const folded = await handler(new Request(`${appOrigin}/%2e%2e/%2e%2e/etc/passwd`));
    expect(await folded.text()).toContain('<title>lab</title>');
    // ...and what survives parsing, such as an encoded slash, is refused.
    const refused = await handler(new Request(`${appOrigin}/..%2F..%2Fetc%2Fpasswd`));
    expect(refused.status).toBe(403);
    expect(await refused.text()).not.toContain('root:');
    expect((await handler(new Request(`${appOrigin}/index.html`, { method: 'POST', body: 'x' }))).status).toBe(405);
  });

  it('does not follow a symlink out of the root by name alone (the path is checked, not the target)', async () => {
    symlinkSync(join(outside, 'secret.txt'), join(root, 'link.txt'));
    // A link inside the root is the root's business (renderer/dist has none); names cannot escape.
    expect(resolveProtocolPath(root, `${appOrigin}/link.txt`)).toMatchObject({ ok: true, path: join(root, 'link.txt') });
  });

  it('serves the export downloads of the API contract from the engine', async () => {
    const url = `${appOrigin}${exportPath('20260101-000000-abcd', 'accuracy-over-training', 'svg')}`;
    const file = await handler(new Request(url));
    expect(file.status).toBe(200);
    expect(file.headers.get('content-disposition')).toBe('attachment; filename="20260101-000000-abcd-accuracy-over-training.svg"');
    expect(await file.text()).toBe('<svg/>');
    expect(exports.at(-1)).toEqual({ runId: '20260101-000000-abcd', target: 'accuracy-over-training', format: 'svg' });
    expect((await handler(new Request(`${appOrigin}${exportPath('99999999-000000-0000', 'metrics', 'csv')}`))).status).toBe(404);
  });
});
