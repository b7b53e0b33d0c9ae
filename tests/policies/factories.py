import factory
from django.utils import timezone

from policies.models import Category, KeywordRule, PolicyDocument, PolicyStatus, PolicyVersion


class PolicyDocumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PolicyDocument
        django_get_or_create = ("kind",)

    kind = PolicyDocument.Kind.PRODUCT_LISTING
    title = factory.LazyAttribute(lambda o: PolicyDocument.Kind(o.kind).label + " policy")
    slug = factory.LazyAttribute(lambda o: o.kind.replace("_", "-"))


class PolicyVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PolicyVersion

    document = factory.SubFactory(PolicyDocumentFactory)
    number = factory.Sequence(lambda n: n + 1)
    body_markdown = "## Rules\n\nSellers must describe products truthfully."
    effective_at = factory.LazyFunction(lambda: timezone.now() - timezone.timedelta(days=1))


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")
    policy_status = PolicyStatus.ALLOWED


class KeywordRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = KeywordRule

    phrase = factory.Sequence(lambda n: f"forbidden{n}")
    action = KeywordRule.Action.BLOCK
    reason = "This word is not allowed in listings."
