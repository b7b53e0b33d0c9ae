import pytest


@pytest.fixture
def restricted():
    """A restricted category ("Medicines"): listing in it needs a qualification."""
    from policies.models import PolicyStatus
    from tests.policies.factories import CategoryFactory

    return CategoryFactory(name="Medicines", policy_status=PolicyStatus.RESTRICTED)
