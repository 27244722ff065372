/**
 * The supervisor's two places in routing (issue 10):
 *  - `supervisor.<root>` is the supervisor's own origin. It is not a service: its
 *    pages and scripts come from the PWA build (`supervisor.html` for `/`, the build's
 *    files otherwise), as the root origin's do.
 *  - `/common/common-lib.js` on every origin is the app-side client from the build
 *    (psibase serves it from CommonApi's files), answered before common-api is asked.
 */
import type { StaticSite } from './router.ts';

export const SUPERVISOR_SERVICE = 'supervisor';
export const SUPERVISOR_PAGE = '/supervisor.html';
export const COMMON_LIB_PATH = '/common/common-lib.js';

/** The build file a path on the supervisor origin stands for. */
export function supervisorFile(pathname: string): string {
  return pathname === '/' || pathname === '/index.html' ? SUPERVISOR_PAGE : pathname;
}

function readOnly(request: Request): boolean {
  return request.method === 'GET' || request.method === 'HEAD';
}

/** A page or script of the supervisor origin, or undefined when there is no build to serve it from. */
export async function serveSupervisorOrigin(site: StaticSite | undefined, request: Request, url: URL): Promise<Response | undefined> {
  if (!site || !readOnly(request)) return undefined;
  return site.fetch(supervisorFile(url.pathname), request);
}

/** `/common/common-lib.js` from the build, CORS-open like psibase's common files. */
export async function serveCommonLib(site: StaticSite | undefined, request: Request, url: URL): Promise<Response | undefined> {
  if (!site || url.pathname !== COMMON_LIB_PATH || !readOnly(request)) return undefined;
  const r = await site.fetch(COMMON_LIB_PATH, request);
  if (!r || !r.ok) return r;
  const headers = new Headers(r.headers);
  headers.set('Access-Control-Allow-Origin', '*');
  headers.set('Content-Type', 'text/javascript; charset=utf-8');
  return new Response(r.body, { status: r.status, headers });
}
