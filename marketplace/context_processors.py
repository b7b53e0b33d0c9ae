from django.conf import settings


def marketplace(request):
    return {
        "marketplace_name": settings.MARKETPLACE_NAME,
        "payment_gateway": settings.PAYMENT_GATEWAY,
        # 200 bps -> "2%", 250 bps -> "2.5%": for sentences that quote the commission.
        "platform_commission_percent": f"{settings.PLATFORM_COMMISSION_BPS / 100:g}%",
    }


def csrf_placeholder(request):
    """While marketplace.pagecache renders a page to keep, the CSRF token is a placeholder that
    each response replaces with its visitor's own token."""
    if getattr(request, "render_csrf_placeholder", False):
        from marketplace.pagecache import CSRF_PLACEHOLDER

        return {"csrf_token": CSRF_PLACEHOLDER}
    return {}
