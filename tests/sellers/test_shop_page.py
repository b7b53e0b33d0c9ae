"""The public shop page (served by catalog, which lists its products): shown only for an approved
shop, with its name, description, country and the date it opened."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from sellers.models import SellerStatus
from tests.sellers.factories import ApprovedSellerFactory, SellerFactory

pytestmark = pytest.mark.django_db


def test_an_approved_shop_has_a_public_page(client):
    seller = ApprovedSellerFactory(
        shop_name="Clay Works",
        description="Hand-made mugs.",
        country="PT",
        approved_at=datetime(2025, 3, 14, tzinfo=UTC),
    )

    response = client.get(reverse("shops:detail", args=[seller.slug]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Clay Works</h1>" in html
    assert "Hand-made mugs." in html
    assert "Portugal" in html
    assert "since" in html and "March 2025" in html
    assert "No products yet" in html


@pytest.mark.parametrize(
    "status",
    [
        SellerStatus.DRAFT,
        SellerStatus.SUBMITTED,
        SellerStatus.NEEDS_INFO,
        SellerStatus.REJECTED,
        SellerStatus.SUSPENDED,
        SellerStatus.CLOSED,
    ],
)
def test_a_shop_that_is_not_approved_answers_404(client, status):
    seller = SellerFactory(status=status)

    assert client.get(reverse("shops:detail", args=[seller.slug])).status_code == 404


def test_an_unknown_shop_answers_404(client):
    assert client.get(reverse("shops:detail", args=["no-such-shop"])).status_code == 404


def test_the_description_is_escaped(client):
    seller = ApprovedSellerFactory(description="<script>alert(1)</script>")

    html = client.get(reverse("shops:detail", args=[seller.slug])).content.decode()

    assert "<script>alert(1)</script>" not in html
