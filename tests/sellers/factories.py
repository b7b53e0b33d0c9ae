import factory

from sellers.models import Seller, SellerMember, SellerRole, SellerStatus
from tests.accounts.factories import UserFactory
from tests.policies.factories import CategoryFactory


class SellerFactory(factory.django.DjangoModelFactory):
    """A seller application in `status` (default draft), with its owner as the owner member."""

    class Meta:
        model = Seller
        skip_postgeneration_save = True

    owner = factory.SubFactory(UserFactory)
    kind = Seller.Kind.INDIVIDUAL
    status = SellerStatus.DRAFT
    shop_name = factory.Sequence(lambda n: f"Shop {n}")
    slug = factory.Sequence(lambda n: f"shop-{n}")
    legal_name = factory.Faker("name")
    contact_email = factory.LazyAttribute(lambda o: o.owner.email)
    contact_phone = "+1 555 0100"
    country = "US"
    address_line1 = "1 Market Street"
    city = "Springfield"
    postal_code = "12345"
    main_category = factory.SubFactory(CategoryFactory)

    @factory.post_generation
    def owner_membership(obj, create, extracted, **kwargs):
        if create:
            SellerMember.objects.get_or_create(
                seller=obj, user=obj.owner, defaults={"role": SellerRole.OWNER}
            )


class ApprovedSellerFactory(SellerFactory):
    status = SellerStatus.APPROVED


class SellerMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SellerMember

    seller = factory.SubFactory(ApprovedSellerFactory)
    user = factory.SubFactory(UserFactory)
    role = SellerRole.PRODUCT_MANAGER
