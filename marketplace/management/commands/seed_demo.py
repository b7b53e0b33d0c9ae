"""Demo data: ``python manage.py seed_demo``. Safe to run any number of times.

Each step is idempotent (looked up by a natural key, created only when missing, demo passwords
reset to their documented value), so a re-run repairs the demo instead of duplicating it. Later
issues add their steps (sellers, products, creators, orders) in their app's ``demo.py``.
"""

from dataclasses import dataclass
from importlib import import_module

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction
from django.test.utils import override_settings
from django.utils.module_loading import module_has_submodule

from marketplace.accounts.models import User
from marketplace.progress import ProgressBar


@dataclass(frozen=True)
class DemoLogin:
    role: str
    email: str
    password: str
    full_name: str
    is_staff: bool = False
    where: str = "/accounts/login/"


DEMO_LOGINS = [
    DemoLogin("Platform staff", "admin@demo.test", "demo-admin-pass", "Ada Admin", True, "/admin/"),
    DemoLogin("Shopper", "shopper@demo.test", "demo-shopper-pass", "Sam Shopper"),
    DemoLogin(
        "Seller owner", "seller@demo.test", "demo-seller-pass", "Sofia Seller", where="/seller/"
    ),
    DemoLogin(
        "Creator", "creator@demo.test", "demo-creator-pass", "Cleo Creator", where="/creator/"
    ),
    DemoLogin(
        "Seller applicant",
        "applicant@demo.test",
        "demo-seller-pass",
        "Paula Applicant",
        where="/seller/application/",
    ),
]


def seed_demo_user(login: DemoLogin) -> User:
    user = User.objects.filter(email=login.email).first()
    if user is None:
        user = User(email=login.email)
    user.full_name = login.full_name
    user.is_staff = login.is_staff
    user.is_superuser = login.is_staff
    user.is_active = True
    user.set_password(login.password)
    user.save()
    return user


def demo_steps():
    """(name, callable) pairs, run in order, each in its own transaction: the demo users first,
    then each installed app's own steps (its `demo.demo_steps()`), in INSTALLED_APPS order, which
    is the dependency order (policies before sellers before catalog)."""
    steps = [
        (f"user {login.email}", lambda login=login: seed_demo_user(login)) for login in DEMO_LOGINS
    ]
    for app_config in apps.get_app_configs():
        if app_config.name == "marketplace" or not module_has_submodule(app_config.module, "demo"):
            continue
        steps += import_module(f"{app_config.name}.demo").demo_steps()
    return steps


class Command(BaseCommand):
    help = "Create or repair the demo data (idempotent) and print the demo logins."

    def handle(self, *args, **options):
        steps = demo_steps()
        progress = ProgressBar(len(steps), label="Seeding demo data", stream=self.stdout)
        # The services send real notifications (application approved, ...); for demo people they
        # would only flood the terminal, so they are kept in memory.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            for name, step in steps:
                with transaction.atomic():
                    step()
                progress.advance(note=name)

        self.stdout.write(self.style.SUCCESS("\nDemo data is ready. Demo logins:"))
        for login in DEMO_LOGINS:
            self.stdout.write(
                f"  {login.role:<16} {login.email:<22} {login.password:<20} {login.where}"
            )
