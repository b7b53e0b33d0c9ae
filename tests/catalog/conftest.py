import pytest


@pytest.fixture
def kitchen():
    """The "Kitchen" category (slug `kitchen`), which the bulk-upload rows name."""
    from tests.policies.factories import CategoryFactory

    return CategoryFactory(name="Kitchen", slug="kitchen")
