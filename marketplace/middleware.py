"""Content-Security-Policy on every response (Django 5.2 has no built-in CSP).

The policy allows scripts only from our own origin: no inline script, no inline event handler, no
eval. htmx is served from our static files, and its inline indicator <style> is turned off in
base.html (`<meta name="htmx-config">`; app.css carries those rules). Swagger UI at /api/docs/ runs
its start-up code from a static file (templates/drf_spectacular/swagger_ui.html). Stripe.js is
allowed only when the Stripe gateway is on.

Styles are as strict as the pages allow:
- storefront, Seller Center, Creator Center, accounts and the API docs: `style-src 'self'`, since
  their templates use only app.css (and the other static stylesheets);
- the admin (`CSP_INLINE_STYLE_PATHS`): `'unsafe-inline'` for styles only, because Django's own
  admin templates (change_list.html), our admin templates (brand colours in admin/base_site.html,
  the change forms' decision buttons) and admin columns built with format_html use inline styles;
- error pages rendered without static files (our 500.html, Django's CSRF failure page): the
  SHA-256 hashes of their fixed inline <style> blocks, read from the templates themselves, so
  nothing else inline is allowed there.

With DEBUG on, Django's technical 404 and 500 pages (inline scripts and styles, development only)
are sent without a policy so they keep working.
"""

import base64
import hashlib
import re
from functools import cache

from django.conf import settings
from django.template import TemplateDoesNotExist
from django.template.loader import get_template

HEADER = "Content-Security-Policy"
STRIPE_JS = "https://js.stripe.com"
# Stripe's documented CSP needs: Stripe.js and its frames, its API, and (Connect onboarding) the
# redirect that follows the "Connect payouts" form.
STRIPE_FRAMES = ("https://js.stripe.com", "https://hooks.stripe.com")
STRIPE_API = "https://api.stripe.com"
STRIPE_CONNECT = "https://connect.stripe.com"

# Self-contained error pages whose inline <style> is allowed by hash on error responses.
ERROR_PAGE_TEMPLATES = ("500.html",)
STYLE_BLOCK = re.compile(r"<style[^>]*>(.*?)</style>", re.DOTALL | re.IGNORECASE)


def _style_hashes_of(source: str) -> list[str]:
    hashes = []
    for block in STYLE_BLOCK.findall(source):
        if "{{" in block or "{%" in block:
            continue  # rendered differently per request: never allowed by hash
        digest = base64.b64encode(hashlib.sha256(block.encode()).digest()).decode()
        hashes.append(f"'sha256-{digest}'")
    return hashes


@cache
def error_page_style_hashes() -> tuple[str, ...]:
    """Hashes of the inline styles of the self-contained error pages, read once per process."""
    hashes: list[str] = []
    for name in ERROR_PAGE_TEMPLATES:
        try:
            hashes += _style_hashes_of(get_template(name).template.source)
        except TemplateDoesNotExist:
            continue
    try:  # Django's CSRF failure page, unless the project has its own 403_csrf.html
        get_template("403_csrf.html")
    except TemplateDoesNotExist:
        from django.views.csrf import builtin_template_path

        hashes += _style_hashes_of(builtin_template_path("csrf_403.html").read_text())
    return tuple(dict.fromkeys(hashes))


def build_policy(*, stripe: bool, inline_styles: bool, style_hashes=()) -> str:
    script_src = ["'self'"]
    style_src = ["'self'"]
    form_action = ["'self'"]
    stripe_directives: list[tuple[str, list[str]]] = []
    if inline_styles:
        style_src.append("'unsafe-inline'")
    else:
        # Never together with 'unsafe-inline': a hash makes browsers ignore it.
        style_src.extend(style_hashes)
    if stripe:
        script_src.append(STRIPE_JS)
        form_action.append(STRIPE_CONNECT)
        stripe_directives = [
            ("frame-src", ["'self'", *STRIPE_FRAMES]),
            ("connect-src", ["'self'", STRIPE_API]),
        ]
    directives = [
        ("default-src", ["'self'"]),
        ("script-src", script_src),
        ("style-src", style_src),
        ("img-src", ["'self'", "data:"]),
        *stripe_directives,
        ("object-src", ["'none'"]),
        ("base-uri", ["'self'"]),
        ("form-action", form_action),
        ("frame-ancestors", ["'none'"]),
    ]
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives)


class ContentSecurityPolicyMiddleware:
    """Adds the policy to every response that has none yet (a view may set its own)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if HEADER in response:
            return response
        if settings.DEBUG and response.status_code in (404, 500):
            return response  # Django's technical pages (see the module docstring)
        inline_styles = request.path_info.startswith(tuple(settings.CSP_INLINE_STYLE_PATHS))
        response[HEADER] = build_policy(
            stripe=settings.PAYMENT_GATEWAY == "stripe",
            inline_styles=inline_styles,
            style_hashes=error_page_style_hashes() if response.status_code >= 400 else (),
        )
        return response
