from django.conf import settings


def marketplace(request):
    return {
        "marketplace_name": settings.MARKETPLACE_NAME,
        "payment_gateway": settings.PAYMENT_GATEWAY,
    }
