from django.db import transaction

from orders.models import BuyerAddress


@transaction.atomic
def buyer_address_create(
    *,
    user,
    name: str,
    line1: str,
    city: str,
    postal_code: str,
    country: str,
    line2: str = "",
    region: str = "",
    phone: str = "",
    make_default: bool = True,
) -> BuyerAddress:
    """Save a shipping address to the buyer's book; the newest becomes the default."""
    if make_default:
        BuyerAddress.objects.filter(user=user, is_default=True).update(is_default=False)
    return BuyerAddress.objects.create(
        user=user,
        name=name,
        line1=line1,
        line2=line2,
        city=city,
        region=region,
        postal_code=postal_code,
        country=country,
        phone=phone,
        is_default=make_default,
    )
