// The web app (web/dist, built by `npm run build`) served by the same server:
// files from the build, and index.html for any other path that is not the API
// (/api, /v1), so the app's own router handles deep links. When the build is
// missing, a page says how to make it.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorBody } from '../errors.ts';

export const DEFAULT_WEB_DIST = fileURLToPath(new URL('../../../web/dist/', import.meta.url));

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Liuke · web app not built</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#1f2937}code{background:#f3f4f6;padding:.1rem .3rem;border-radius:4px}</style>
</head><body>
<h1>The web app has not been built</h1>
<p>The server is running and its API answers under <code>/api</code>, but there is no <code>web/dist</code> to serve.
Build the web app once with</p>
<pre><code>npm run build</code></pre>
<p>and reload this page. For development, <code>npm run dev:web</code> starts a dev server that proxies the API to this one.</p>
<p lang="zh-CN">网页端尚未构建：请先运行 <code>npm run build</code>，然后刷新本页。</p>
</body></html>`;

/** Paths that belong to the API and never fall back to the app. */
function isApiPath(url: string): boolean {
  return /^\/(api|v1)(\/|$|\?)/.test(url);
}

/** A file that exists in the build (script, style, icon…), whatever the Accept header says. */
function isAssetRequest(url: string, root: string): boolean {
  const rel = safeRel(url);
  if (!rel) return false;
  const file = path.resolve(root, rel);
  return file.startsWith(root + path.sep) && existsSync(file) && statSync(file).isFile();
}

function safeRel(url: string): string {
  try {
    return decodeURIComponent(url).replace(/^\/+/, '');
  } catch {
    return '';
  }
}

export function webRoutesFor(distDir: string) {
  // Without a build, every page request gets the "not built" page.
  return async function webRoutes(app: FastifyInstance): Promise<void> {
    const root = path.resolve(distDir);
    const built = () => existsSync(path.join(root, 'index.html'));
    await app.register(fastifyStatic, { root, serve: false });

    const handler = async (req: FastifyRequest, reply: FastifyReply) => {
      const url = req.url.split('?')[0] ?? '/';
      // The API, and requests that are not a browser asking for a page (curl, fetch,
      // a client with a wrong URL), get the API's 404 rather than the app shell.
      const wantsPage = (req.headers.accept ?? '').includes('text/html');
      if (isApiPath(url) || (!wantsPage && !isAssetRequest(url, root))) {
        return reply
          .status(404)
          .send({ error: { code: 'not_found', message: `no route ${req.method} ${req.url}` } } satisfies ErrorBody);
      }
      if (!built()) return reply.status(503).type('text/html; charset=utf-8').send(NOT_BUILT_PAGE);
      if (isAssetRequest(url, root)) {
        const rel = safeRel(url);
        // Vite puts content-hashed files under assets/: cache them for good.
        if (rel.startsWith('assets/')) return reply.sendFile(rel, { maxAge: '365d', immutable: true });
        return reply.sendFile(rel, { maxAge: 0 });
      }
      // Client-side route: the app shell, never cached so a new build is picked up.
      return reply.header('cache-control', 'no-cache').sendFile('index.html', { cacheControl: false });
    };
    const opts = { config: { roles: 'public' as const }, schema: { hide: true } };
    app.get('/', opts, handler);
    app.get('/*', opts, handler);
  };
}

export const webRoutes = webRoutesFor(DEFAULT_WEB_DIST);
