"""A cache of whole storefront pages for visitors without a session.

Most storefront traffic is people who have not signed in, put nothing in a cart and have no
message waiting: they all see the same page for the same address. For them a rendered page is kept
in the shared cache and served again without touching the database.

Safe by construction:
- Only GET/HEAD requests that carry neither a session cookie nor a messages cookie are cached or
  served from the cache: anyone signed in, with a cart, or with a flash message gets the page
  rendered for them.
- The CSRF token is the one per-visitor value on such a page. While a page is rendered for the
  cache, templates see a placeholder instead of the token (context processor `csrf_placeholder`);
  every response, fresh or cached, gets the visitor's own token put in its place.
- Every cached page carries the storefront version in its key. Writes that change what shoppers
  see (a product's status, content, SKUs or images; a shop's status or shipping; the category
  tree) call `storefront_changed()`, which moves the version on, so no stale page is ever served
  after the write commits. A page also expires after PAGE_TTL_SECONDS whatever happens.
"""

import hashlib
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from django.middleware.csrf import get_token

CSRF_PLACEHOLDER = "csrf-token-placeholder-9c1e"
VERSION_KEY = "pagecache:storefront-version"
PAGE_TTL_SECONDS = 300


def storefront_version() -> int:
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, 1, timeout=None)
        version = cache.get(VERSION_KEY, 1)
    return version


def storefront_changed() -> None:
    """Retire every cached storefront page, once the current transaction commits (a page
    rendered before the commit must not be stored under the new version)."""

    def bump():
        try:
            cache.incr(VERSION_KEY)
        except ValueError:  # no version yet, or it was evicted
            cache.set(VERSION_KEY, storefront_version() + 1, timeout=None)

    transaction.on_commit(bump)


def _cacheable(request) -> bool:
    return (
        getattr(settings, "STOREFRONT_PAGE_CACHE", True)
        and request.method in ("GET", "HEAD")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and "messages" not in request.COOKIES
        and not getattr(request, "htmx", False)
    )


def _with_visitor_token(request, body: bytes) -> bytes:
    if CSRF_PLACEHOLDER.encode() not in body:
        return body
    return body.replace(CSRF_PLACEHOLDER.encode(), get_token(request).encode())


def cache_anonymous_page(view):
    """Serve `view`'s page from the cache for visitors without a session (see module docstring)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not _cacheable(request):
            return view(request, *args, **kwargs)
        path_hash = hashlib.sha256(request.get_full_path().encode()).hexdigest()
        key = f"pagecache:{storefront_version()}:{path_hash}"
        cached = cache.get(key)
        if cached is not None:
            content_type, body = cached
            response = HttpResponse(_with_visitor_token(request, body), content_type=content_type)
            response["X-Page-Cache"] = "hit"
            return response

        request.render_csrf_placeholder = True
        response = view(request, *args, **kwargs)
        if hasattr(response, "render") and not response.is_rendered:
            response.render()
        request.render_csrf_placeholder = False
        if response.status_code == 200 and not response.streaming and not response.cookies:
            cache.set(key, (response["Content-Type"], response.content), timeout=PAGE_TTL_SECONDS)
        response.content = _with_visitor_token(request, response.content)
        response["X-Page-Cache"] = "miss"
        return response

    return wrapper
