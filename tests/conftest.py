import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _isolated_media_root(settings, tmp_path):
    """Uploaded files of one test never leak into another or into the developer's var/."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"


# Shared fixtures, each defined here once: a test file does not redefine these names. They import
# factories inside the function, so that loading this file imports no models.


@pytest.fixture
def fresh_cache():
    """Empty the cache before the test: pages cache category counts and other values for a while,
    and the cache outlives a test's rolled-back transaction. Not autouse: a file that needs it says
    `pytestmark = pytest.mark.usefixtures("fresh_cache")`."""
    cache.clear()


@pytest.fixture
def staff():
    """A platform staff user (staff and superuser)."""
    from tests.accounts.factories import StaffUserFactory

    return StaffUserFactory()


@pytest.fixture
def staff_client(client, staff):
    """The test client signed in as `staff`."""
    client.force_login(staff)
    return client


@pytest.fixture
def seller():
    """An approved seller with nothing set up: no addresses, shipping, payout account or accepted
    policies, so it cannot list yet (compare `listing_seller`)."""
    from tests.sellers.factories import ApprovedSellerFactory

    return ApprovedSellerFactory()


@pytest.fixture
def owner_client(client, seller):
    """The test client signed in as the owner of `seller`; `owner_client.seller` is that seller."""
    client.force_login(seller.owner)
    client.seller = seller
    return client


@pytest.fixture
def listing_seller():
    """An approved seller that meets every listing prerequisite (`ready_seller()`)."""
    from tests.sellers.factories import ready_seller

    return ready_seller()


@pytest.fixture
def listing_owner_client(client, listing_seller):
    """The test client signed in as the owner of `listing_seller`; `.seller` is that seller."""
    client.force_login(listing_seller.owner)
    client.seller = listing_seller
    return client


@pytest.fixture
def product():
    """A live product, "Sturdy Teapot", with one SKU, as the storefront sees it."""
    from tests.catalog.factories import live_product

    return live_product(title="Sturdy Teapot")
