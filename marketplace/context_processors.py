from django.conf import settings


def marketplace(request):
    return {
        "marketplace_name": settings.MARKETPLACE_NAME,
        "payment_gateway": settings.PAYMENT_GATEWAY,
        # 200 bps -> "2%", 250 bps -> "2.5%": for sentences that quote the commission.
        "platform_commission_percent": f"{settings.PLATFORM_COMMISSION_BPS / 100:g}%",
    }
