/* Akademia's service worker, served from /sw.js (route attendance.service_worker) so its
 * scope covers the whole app. The route puts self.AKADEMIA on top: the version of the cached
 * files, their URLs and the offline page's text in the user's language.
 *
 * - the app shell (/static/ CSS, scripts, icons, manifest): cached when the worker installs,
 *   then served cache first;
 * - navigations to …/sessions/<id>/roll-call: network first, the last copy from the cache
 *   when there is no connection, so a roll-call opened once online can be reloaded offline;
 * - /api/…: network only (the sync API above all: marks wait in the page's IndexedDB outbox,
 *   never in this worker);
 * - everything else goes to the network untouched.
 */
"use strict";

const SETTINGS = self.AKADEMIA || { version: "dev", shell: [] };
const SHELL_CACHE = "akademia-shell-" + SETTINGS.version;
const PAGES_CACHE = "akademia-pages";
const BASE = new URL(self.registration.scope).pathname; // "/" unless mounted under a prefix
const ROLLCALL = new RegExp("^" + BASE + "sessions/\\d+/roll-call$");
const SIGN_OUT = BASE + "auth/sign-out";
const SHELL = new Set(SETTINGS.shell.map((path) => new URL(path, self.location.origin).pathname));

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(SHELL_CACHE)
      .then((cache) => cache.addAll(SETTINGS.shell))
      .then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(
        names
          .filter((name) => name.startsWith("akademia-shell-") && name !== SHELL_CACHE)
          .map((name) => caches.delete(name))
      ))
      .then(() => self.clients.claim())
  );
});

function offlinePage() {
  const esc = (text) => String(text).replace(/[&<>"]/g, (c) => "&#" + c.charCodeAt(0) + ";");
  const body = "<!doctype html><meta charset=utf-8><meta name=viewport content='width=device-width'>" +
    "<title>" + esc(SETTINGS.offline_title) + "</title><h1>" + esc(SETTINGS.offline_title) +
    "</h1><p>" + esc(SETTINGS.offline_message) + "</p>";
  return new Response(body, {
    status: 503,
    headers: { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store" },
  });
}

async function rememberPage(cache, path, response) {
  // Only the roster itself: not a redirect to the sign-in page, not an error page.
  if (response.ok && response.type === "basic" && !response.redirected) {
    await cache.put(path, response.clone());
  } else if (response.type === "opaqueredirect" || response.status === 403 || response.status === 404) {
    await cache.delete(path); // signed out or no longer allowed: forget the copy
  }
}

async function networkFirst(request, url) {
  const cache = await caches.open(PAGES_CACHE);
  try {
    const response = await fetch(request);
    if (!url.search) {
      await rememberPage(cache, url.pathname, response);
    }
    return response;
  } catch (error) {
    const cached = await cache.match(url.pathname);
    return cached || offlinePage();
  }
}

async function cacheFirst(request) {
  const cache = await caches.open(SHELL_CACHE);
  const cached = await cache.match(request, { ignoreSearch: true });
  if (cached) {
    return cached;
  }
  const response = await fetch(request);
  if (response.ok && response.type === "basic") {
    await cache.put(request, response.clone());
  }
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    return;
  }
  if (request.method === "POST" && url.pathname === SIGN_OUT) {
    // Rosters are personal data: nobody who signs in after this one sees them offline.
    event.waitUntil(caches.delete(PAGES_CACHE));
    return;
  }
  if (url.pathname.startsWith(BASE + "api/")) {
    // Network only, made by this worker: with no connection the page's fetch fails at once
    // and the marks stay in the page's outbox.
    event.respondWith(fetch(request));
    return;
  }
  if (request.method !== "GET") {
    return;
  }
  if (request.mode === "navigate" && ROLLCALL.test(url.pathname)) {
    event.respondWith(networkFirst(request, url));
  } else if (SHELL.has(url.pathname)) {
    // Only the shell: its version is this worker's, so a changed file comes with a new
    // worker. Other static files (another page's script) would otherwise never update.
    event.respondWith(cacheFirst(request));
  }
});

// The roll-call page asks for itself to be kept when it was loaded before this worker
// controlled it (the very first visit), then waits for the answer to say "ready offline".
self.addEventListener("message", (event) => {
  const data = event.data || {};
  const port = event.ports && event.ports[0];
  if (data.type !== "keep-page" || !port) {
    return;
  }
  const url = new URL(data.url, self.location.origin);
  if (url.origin !== self.location.origin || !ROLLCALL.test(url.pathname)) {
    port.postMessage({ ok: false });
    return;
  }
  event.waitUntil(
    caches.open(PAGES_CACHE)
      .then(async (cache) => {
        if (data.refresh || !(await cache.match(url.pathname))) {
          try {
            const response = await fetch(url.pathname, { credentials: "same-origin" });
            await rememberPage(cache, url.pathname, response);
          } catch (error) {
            // No connection right now: an earlier copy, if any, still serves.
          }
        }
        port.postMessage({ ok: Boolean(await cache.match(url.pathname)) });
      })
      .catch(() => port.postMessage({ ok: false }))
  );
});
