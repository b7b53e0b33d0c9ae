"""Checkout benchmark: checkouts per second with 32 concurrent signed-in buyers, over 1,000 SKUs
and over one hot SKU, next to a trivial view (/ping), under gunicorn on loopback, in one run.

    createdb -h 127.0.0.1 -U postgres mkt_checkout_bench
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/mkt_checkout_bench
    DJANGO_DEBUG=1 .venv/bin/python manage.py migrate
    .venv/bin/python bench/checkout.py --json /tmp/checkout-bench.json

Each buyer loops: POST /cart/add/ (one unit of a SKU), GET /checkout/ (the page's submit token
and the total it shows, which the order must send back), then POST /checkout/ with a saved address
and the test card 4242 4242 4242 4242; a checkout counts when it answers with the redirect to its
confirmation page. "spread" picks a random SKU of 1,000 (over 32 sellers) each time; "hot" always
the same SKU, so every checkout waits for the one row lock. Stock is large enough never to run out.
/ping is driven by the same 32 client threads, first and last; ratios use the mean of the two.

Sessions and CSRF tokens are made in-process before the run (no login requests in the loop).
Emails go to Django's dummy backend. Not part of the test suite; loopback only.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import asdict, dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))
PYTHON = sys.executable
GUNICORN = str(Path(PYTHON).with_name("gunicorn"))
HOST = "127.0.0.1"
PREFIX = "bench-checkout"
CARD = "4242 4242 4242 4242"


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--buyers", type=int, default=32, help="concurrent buyers (connections)")
    parser.add_argument("--skus", type=int, default=1000)
    parser.add_argument("--sellers", type=int, default=32)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds measured")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--json", type=Path, help="also write the results here")
    return parser.parse_args()


def bench_environment() -> dict[str, str]:
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL database of its own (see the docstring).")
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "marketplace.settings",
            "DJANGO_DEBUG": "0",
            "DJANGO_SECURE_SSL_REDIRECT": "0",
            "ALLOWED_HOSTS": HOST,
            "LOG_LEVEL": "WARNING",
            "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
            "PAYMENT_GATEWAY": "local",
        }
    )
    env.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))
    # As in production, the hashed static files must exist before a DEBUG=0 server starts (it
    # refuses to start without their manifest).
    env["STATIC_ROOT"] = tempfile.mkdtemp(prefix="bench-static-")
    subprocess.run(  # noqa: S603
        [PYTHON, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=PROJECT_ROOT,
        env=env,
        check=True,
    )
    return env


@dataclass
class Buyer:
    session_cookie: str
    csrf_token: str
    address_id: int


def prepare(args, env) -> tuple[list[Buyer], list[int], int]:
    """Sellers, SKUs, buyers with a saved address and a signed-in session. In-process."""
    os.environ.update(env)
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.hashers import make_password
    from django.contrib.sessions.backends.db import SessionStore

    from catalog.models import SKU, Product, ProductStatus
    from marketplace.accounts.models import User
    from orders.models import BuyerAddress
    from policies.models import Category
    from sellers.models import Seller, SellerStatus, ShippingTemplate

    rng = random.Random(args.seed)  # noqa: S311 - the order of SKUs, not a secret
    run = secrets.token_hex(3)
    category = Category.objects.create(name=f"Bench {run}", slug=f"{PREFIX}-{run}")
    owners = User.objects.bulk_create(
        User(email=f"{PREFIX}-seller-{run}-{n}@bench.test", password=make_password(None))
        for n in range(args.sellers)
    )
    sellers = Seller.objects.bulk_create(
        Seller(
            owner=owner,
            kind=Seller.Kind.BUSINESS,
            status=SellerStatus.APPROVED,
            shop_name=f"Bench shop {run} {n}",
            slug=f"{PREFIX}-{run}-{n}",
            legal_name=f"Bench shop {n} Ltd",
            contact_email=owner.email,
            contact_phone="+1 555 0100",
            country="US",
            address_line1="1 Bench Street",
            city="Springfield",
            postal_code="12345",
        )
        for n, owner in enumerate(owners)
    )
    ShippingTemplate.objects.bulk_create(
        ShippingTemplate(seller=seller, flat_fee_minor=499, free_shipping_threshold_minor=5000)
        for seller in sellers
    )
    products = Product.objects.bulk_create(
        Product(
            seller=sellers[n % len(sellers)],
            status=ProductStatus.LIVE,
            title=f"Bench item {run} {n}",
            category=category,
            price_min_minor=1000 + n,
            price_max_minor=1000 + n,
            in_stock=True,
        )
        for n in range(args.skus + 1)
    )
    skus = SKU.objects.bulk_create(
        SKU(
            product=product,
            seller_sku=f"B-{n}",
            price_minor=1000 + n,
            stock_on_hand=1_000_000,
        )
        for n, product in enumerate(products)
    )
    hot_sku, spread_skus = skus[-1].id, [sku.id for sku in skus[:-1]]
    buyers = []
    for n in range(args.buyers):
        user = User.objects.create_user(
            email=f"{PREFIX}-buyer-{run}-{n}@bench.test", password=secrets.token_urlsafe(16)
        )
        address = BuyerAddress.objects.create(
            user=user,
            name=f"Buyer {n}",
            line1="2 Bench Road",
            city="Springfield",
            postal_code="12345",
            country="US",
            is_default=True,
        )
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        buyers.append(Buyer(session.session_key, secrets.token_hex(16), address.id))
    rng.shuffle(spread_skus)
    assert settings.SESSION_COOKIE_NAME == "sessionid"
    return buyers, spread_skus, hot_sku


@dataclass
class Result:
    name: str
    completed: int
    per_second: float
    p50_ms: float
    p95_ms: float
    errors: int


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(fraction * len(values)))]


def _request(
    port,
    method,
    path,
    *,
    buyer: Buyer | None = None,
    form: dict | None = None,
    want_body: bool = False,
):
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    headers = {"Host": HOST}
    body = None
    if buyer is not None:
        headers["Cookie"] = f"sessionid={buyer.session_cookie}; csrftoken={buyer.csrf_token}"
        headers["X-CSRFToken"] = buyer.csrf_token
    if form is not None:
        body = urllib.parse.urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    content = response.read()
    connection.close()
    if want_body:
        return response.status, content.decode()
    return response.status, response.getheader("Location", "")


def checkout_page_fields(port, buyer) -> dict[str, str] | None:
    """The checkout page's hidden fields (its submit token and the total it shows), which a
    shopper's browser sends back with the order."""
    status, page = _request(port, "GET", "/checkout/", buyer=buyer, want_body=True)
    if status != 200:
        return None
    return dict(re.findall(r'name="(submit_token|expected_total_minor)" value="([^"]*)"', page))


def drive(name, port, buyers, *, action, warmup, duration) -> Result:
    start = time.monotonic()
    measure_from, stop_at = start + warmup, start + warmup + duration
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def loop(index: int, buyer: Buyer):
        rng = random.Random(index)  # noqa: S311 - which SKU to buy next, not a secret
        while time.monotonic() < stop_at:
            began = time.monotonic()
            try:
                ok = action(buyer, rng)
            except OSError:
                ok = False
            ended = time.monotonic()
            if began >= measure_from and ended <= stop_at:
                with lock:
                    if ok:
                        latencies.append(ended - began)
                    else:
                        errors[0] += 1

    threads = [threading.Thread(target=loop, args=(i, b)) for i, b in enumerate(buyers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Result(
        name=name,
        completed=len(latencies),
        per_second=len(latencies) / duration,
        p50_ms=percentile(latencies, 0.50) * 1000,
        p95_ms=percentile(latencies, 0.95) * 1000,
        errors=errors[0],
    )


def start_gunicorn(env, port: int, workers: int) -> subprocess.Popen:
    command = [GUNICORN, "marketplace.wsgi:application", "--workers", str(workers)]
    command += ["--bind", f"{HOST}:{port}", "--backlog", "2048", "--log-level", "warning"]
    server = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env)  # noqa: S603
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if _request(port, "GET", "/ping")[0] == 200:
                return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("gunicorn did not answer /ping within 30 s")


def main() -> None:
    args = parse_arguments()
    env = bench_environment()
    buyers, spread_skus, hot_sku = prepare(args, env)
    port = args.port

    def ping(buyer, rng):
        return _request(port, "GET", "/ping")[0] == 200

    def checkout_of(pick):
        def action(buyer, rng):
            status, _ = _request(
                port, "POST", "/cart/add/", buyer=buyer, form={"sku_id": pick(rng), "quantity": 1}
            )
            if status != 302:
                return False
            page_fields = checkout_page_fields(port, buyer)
            if not page_fields:
                return False
            status, location = _request(
                port,
                "POST",
                "/checkout/",
                buyer=buyer,
                form={"saved_address": buyer.address_id, "card_number": CARD, **page_fields},
            )
            return status == 302 and location.endswith("/done/")

        return action

    server = start_gunicorn(env, port, args.workers)
    try:
        timing = {"warmup": args.warmup, "duration": args.duration}
        results = [
            drive("/ping (first)", port, buyers, action=ping, **timing),
            drive(
                f"checkout, {len(spread_skus):,} SKUs",
                port,
                buyers,
                action=checkout_of(lambda rng: rng.choice(spread_skus)),
                **timing,
            ),
            drive(
                "checkout, one hot SKU",
                port,
                buyers,
                action=checkout_of(lambda rng: hot_sku),
                **timing,
            ),
            drive("/ping (last)", port, buyers, action=ping, **timing),
        ]
    finally:
        server.terminate()
        server.wait(timeout=30)

    baseline = statistics.mean([results[0].per_second, results[-1].per_second])
    print(f"\n{os.cpu_count()} CPUs, {platform.system()} {platform.release()}, "
          f"{args.workers} gunicorn workers, {args.buyers} buyers\n")  # fmt: skip
    print("| endpoint | per second | vs /ping | p50 ms | p95 ms | errors |")
    print("|---|---:|---:|---:|---:|---:|")
    for result in results:
        ratio = "" if result.name.startswith("/ping") else f"{result.per_second / baseline:.1%}"
        print(
            f"| {result.name} | {result.per_second:,.1f} | {ratio} | {result.p50_ms:.1f} "
            f"| {result.p95_ms:.1f} | {result.errors} |"
        )
    if args.json:
        args.json.write_text(
            json.dumps({"baseline": baseline, "results": [asdict(r) for r in results]}, indent=2)
        )


if __name__ == "__main__":
    main()
