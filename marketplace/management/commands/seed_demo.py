"""Demo data: ``python manage.py seed_demo``. Safe to run any number of times.

Each step is idempotent (looked up by a natural key, created only when missing, demo passwords
reset to their documented value), so a re-run repairs the demo instead of duplicating it. Later
issues add their steps (sellers, products, creators, orders) to ``demo_steps()``.
"""

from dataclasses import dataclass

from django.core.management.base import BaseCommand
from django.db import transaction

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
    """(name, callable) pairs, run in order, each in its own transaction."""
    return [
        (f"user {login.email}", lambda login=login: seed_demo_user(login)) for login in DEMO_LOGINS
    ]


class Command(BaseCommand):
    help = "Create or repair the demo data (idempotent) and print the demo logins."

    def handle(self, *args, **options):
        steps = demo_steps()
        progress = ProgressBar(len(steps), label="Seeding demo data", stream=self.stdout)
        for name, step in steps:
            with transaction.atomic():
                step()
            progress.advance(note=name)

        self.stdout.write(self.style.SUCCESS("\nDemo data is ready. Demo logins:"))
        for login in DEMO_LOGINS:
            self.stdout.write(
                f"  {login.role:<16} {login.email:<22} {login.password:<20} {login.where}"
            )
