"""Settlement benchmark (issue 12): settle 1,000,000 completed order lines across 5,000 sellers
with the settlement job, on PostgreSQL, beside a hand-written plain SQL that moves the same rows.

    createdb -h 127.0.0.1 -U postgres settle_bench
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/settle_bench
    DJANGO_DEBUG=1 .venv/bin/python manage.py migrate -v0
    .venv/bin/python bench/settlement.py --json /tmp/settlement-bench.json

The data (default: 500,000 orders of 2 lines = 1,000,000 order lines, 5,000 approved sellers, every
order completed 10 days ago and paid in the ledger: its `order-paid:<id>` transaction with cash,
seller pending and commission pending entries at 2%) is inserted with set-based SQL (INSERT ...
SELECT generate_series) into the database of DATABASE_URL, which then serves as a template: each
measured run gets a fresh copy (CREATE DATABASE ... TEMPLATE; ledger rows cannot be deleted, by
trigger) and the copy is dropped afterwards. The generation disables the ledger's deferred
"balanced" check while it inserts (it writes balanced transactions by construction); the measured
runs keep every trigger.

Measured, each on its own copy:
- `orders_settle_due(batch_size=N)` for each --batch-sizes, in a child process (so the
  generation does not count in its memory): wall time and peak RSS (getrusage ru_maxrss);
- the plain SQL of `plain_sql_settlement` (due orders, what each still holds in pending, the
  transactions, their entries, the orders stamped; one transaction), wall time to COMMIT.
Each run is checked afterwards: every order settled once, the sellers' available balances and the
commission earned equal what was paid less what was kept.

Not part of the test suite. Only on a PostgreSQL database whose name contains "bench".
"""

# The SQL here is built from integers and constants of this file only (sizes, the currency).
# ruff: noqa: S608

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))
PYTHON = sys.executable
CURRENCY = "USD"
COMMISSION_BPS = 200
ORDERS_PER_CHECKOUT = 1000
HOLD_DAYS = 7


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=500_000)
    parser.add_argument("--lines-per-order", type=int, default=2)
    parser.add_argument("--sellers", type=int, default=5_000)
    parser.add_argument(
        "--batch-sizes", default="1000,5000", help="comma-separated; one settlement run each"
    )
    parser.add_argument(
        "--reuse", action="store_true", help="keep the data already generated (same sizes)"
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    # Internal: the measured child process.
    parser.add_argument("--child-batch-size", type=int, help=argparse.SUPPRESS)
    return parser.parse_args()


# --- Connections ---------------------------------------------------------------------------------


def database_url() -> urllib.parse.ParseResult:
    url = urllib.parse.urlparse(os.environ.get("DATABASE_URL", ""))
    if not url.scheme.startswith("postgres") or "bench" not in url.path:
        sys.exit("Set DATABASE_URL to a PostgreSQL database whose name contains 'bench'.")
    return url


def url_for(url: urllib.parse.ParseResult, name: str) -> str:
    return urllib.parse.urlunparse(url._replace(path=f"/{name}"))


def connect(url: str):
    import psycopg2

    parts = urllib.parse.urlparse(url)
    return psycopg2.connect(
        dbname=parts.path.lstrip("/"),
        user=parts.username or "postgres",
        password=parts.password or None,
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
    )


def run_sql(url: str, *statements: str, autocommit: bool = False) -> None:
    connection = connect(url)
    connection.autocommit = autocommit
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
    if not autocommit:
        connection.commit()
    connection.close()


def scalar(url: str, query: str):
    connection = connect(url)
    with connection.cursor() as cursor:
        cursor.execute(query)
        value = cursor.fetchone()[0]
    connection.close()
    return value


# --- Generation ----------------------------------------------------------------------------------


def generation_sql(orders: int, lines: int, sellers: int) -> list[str]:
    price = "(500 + ((o.id * 31 + k * 17) % 9500))"
    return [
        "ALTER TABLE ledger_ledgerentry DISABLE TRIGGER ledger_entry_balanced",
        # Clean slate (TRUNCATE is not a row operation: the ledger's immutability triggers allow it).
        """TRUNCATE ledger_ledgerentry, ledger_ledgertransaction, ledger_ledgeraccount,
           orders_orderline, orders_order, orders_checkout, sellers_seller, accounts_user
           RESTART IDENTITY CASCADE""",
        f"""INSERT INTO accounts_user (password, is_superuser, email, full_name, is_active, is_staff,
                                       date_joined)
            SELECT '!', false, 'bench-settle-seller-' || g || '@bench.test', 'Bench seller ' || g,
                   true, false, now()
              FROM generate_series(1, {sellers}) g""",
        """INSERT INTO accounts_user (password, is_superuser, email, full_name, is_active, is_staff,
                                      date_joined)
           VALUES ('!', false, 'bench-settle-buyer@bench.test', 'Bench buyer', true, false, now())""",
        f"""INSERT INTO sellers_seller (kind, status, shop_name, slug, legal_name, contact_email,
               contact_phone, country, address_line1, address_line2, city, region, postal_code,
               tax_id, description, status_message, created_at, submitted_at, approved_at,
               owner_id, return_window_days)
            SELECT 'business', 'approved', 'Bench shop ' || u.id, 'bench-settle-' || u.id,
                   'Bench shop ' || u.id || ' LLC', u.email, '+1 555 0100', 'US', '1 Main Street',
                   '', 'Springfield', 'IL', '62701', '', '', '', now(), now(), now(), u.id, 30
              FROM accounts_user u WHERE u.id <= {sellers}""",
        f"""INSERT INTO orders_checkout (status, total_minor, currency, gateway_payment_id,
               idempotency_key, payment_attempts, failure_message, created_at, paid_at, buyer_id,
               declines, submit_token)
            SELECT 'paid', 0, '{CURRENCY}', 'bench-' || g, 'bench-settle-checkout-' || g, 1, '',
                   now() - interval '12 days', now() - interval '12 days', {sellers + 1}, 0,
                   'bench-settle-' || g
              FROM generate_series(1, {-(-orders // ORDERS_PER_CHECKOUT)}) g""",
        # Orders: seller round-robin; each line priced 5.00-99.99; 2% commission on the whole
        # (marketplace.money.percentage_of: half up).
        f"""CREATE TEMP TABLE bench_order ON COMMIT DROP AS
            SELECT o.id, s.id AS seller_id, p.subtotal,
                   (p.subtotal * {COMMISSION_BPS} * 2 + 10000) / 20000 AS commission
              FROM generate_series(1, {orders}) AS o(id)
              JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM sellers_seller) s
                ON s.n = o.id % {sellers}
              CROSS JOIN LATERAL (
                SELECT sum({price})::int AS subtotal FROM generate_series(1, {lines}) k
              ) p""",
        f"""INSERT INTO orders_order (id, status, subtotal_minor, shipping_minor, total_minor,
               commission_bps, commission_minor, currency, ship_name, ship_line1, ship_line2,
               ship_city, ship_region, ship_postal_code, ship_country, ship_phone, paid_at,
               created_at, buyer_id, checkout_id, seller_id, completed_at, delivered_at, ship_by,
               shipped_at)
            SELECT o.id, 'completed', o.subtotal, 0, o.subtotal, {COMMISSION_BPS}, o.commission,
                   '{CURRENCY}', 'Bench Buyer', '10 Elm Street', '', 'Springfield', 'IL', '62701',
                   'US', '+1 555 0199', now() - interval '14 days', now() - interval '14 days',
                   {sellers + 1}, (o.id - 1) / {ORDERS_PER_CHECKOUT} + 1, o.seller_id,
                   now() - interval '10 days' - (o.id % 86400) * interval '1 second',
                   now() - interval '11 days', now() - interval '12 days',
                   now() - interval '13 days'
              FROM bench_order o""",
        f"""INSERT INTO orders_orderline (product_title, sku_code, option_label, unit_price_minor,
               quantity, line_total_minor, commission_bps, order_id)
            SELECT 'Bench item ' || k, 'BENCH-' || k, '', {price}, 1, {price}, {COMMISSION_BPS},
                   o.id
              FROM bench_order o CROSS JOIN generate_series(1, {lines}) k""",
        f"""INSERT INTO ledger_ledgeraccount (code, kind, currency, created_at)
            VALUES ('gateway:cash:{CURRENCY}', 'asset', '{CURRENCY}', now()),
                   ('platform:commission_pending:{CURRENCY}', 'liability', '{CURRENCY}', now())""",
        f"""INSERT INTO ledger_ledgeraccount (code, kind, currency, created_at)
            SELECT 'seller:' || id || ':pending:{CURRENCY}', 'liability', '{CURRENCY}', now()
              FROM sellers_seller""",
        """INSERT INTO ledger_ledgertransaction (id, idempotency_key, kind, reference, description,
               posted_at)
           SELECT o.id, 'order-paid:' || o.id, 'order_paid', 'seller-order:' || o.id, '',
                  now() - interval '14 days'
             FROM bench_order o""",
        f"""INSERT INTO ledger_ledgerentry (transaction_id, account_id, amount_minor, currency,
               posted_at)
            SELECT o.id, a.id, x.amount, '{CURRENCY}', now() - interval '14 days'
              FROM bench_order o
              CROSS JOIN LATERAL (VALUES
                  ('gateway:cash:{CURRENCY}', o.subtotal),
                  ('seller:' || o.seller_id || ':pending:{CURRENCY}', -(o.subtotal - o.commission)),
                  ('platform:commission_pending:{CURRENCY}', -o.commission)
              ) AS x(code, amount)
              JOIN ledger_ledgeraccount a ON a.code = x.code
             WHERE x.amount <> 0""",
        *(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"(SELECT coalesce(max(id), 1) FROM {table}))"
            for table in (
                "accounts_user",
                "sellers_seller",
                "orders_checkout",
                "orders_order",
                "orders_orderline",
                "ledger_ledgeraccount",
                "ledger_ledgertransaction",
                "ledger_ledgerentry",
            )
        ),
    ]


def generate(url: str, args) -> float:
    started = time.perf_counter()
    run_sql(url, *generation_sql(args.orders, args.lines_per_order, args.sellers))
    # After the commit: the foreign keys are checked at commit (deferred), and a table with
    # pending trigger events cannot be altered.
    run_sql(url, "ALTER TABLE ledger_ledgerentry ENABLE TRIGGER ledger_entry_balanced")
    run_sql(url, "VACUUM ANALYZE", autocommit=True)
    return time.perf_counter() - started


def generated_sizes(url: str) -> dict[str, int]:
    return {
        "sellers": scalar(url, "SELECT count(*) FROM sellers_seller WHERE status = 'approved'"),
        "orders": scalar(url, "SELECT count(*) FROM orders_order WHERE status = 'completed'"),
        "order_lines": scalar(url, "SELECT count(*) FROM orders_orderline"),
        "ledger_transactions": scalar(url, "SELECT count(*) FROM ledger_ledgertransaction"),
        "ledger_entries": scalar(url, "SELECT count(*) FROM ledger_ledgerentry"),
    }


# --- Copies --------------------------------------------------------------------------------------


def copy_database(url: urllib.parse.ParseResult, name: str) -> str:
    template = url.path.lstrip("/")
    admin = url_for(url, "postgres")
    run_sql(admin, f"DROP DATABASE IF EXISTS {name}", autocommit=True)
    run_sql(
        admin, f"CREATE DATABASE {name} TEMPLATE {template} STRATEGY FILE_COPY", autocommit=True
    )
    return url_for(url, name)


def drop_database(url: urllib.parse.ParseResult, name: str) -> None:
    run_sql(url_for(url, "postgres"), f"DROP DATABASE IF EXISTS {name}", autocommit=True)


# --- The measured runs ---------------------------------------------------------------------------


def child_settle(batch_size: int) -> None:
    """In the child process: settle everything due, print the measures as JSON."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings")
    import django

    django.setup()
    from django.db import connection

    from orders.services.settlement import orders_settle_due

    connection.ensure_connection()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    settled = orders_settle_due(batch_size=batch_size)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "settled": settled,
                "seconds": seconds,
                "peak_rss_mb": peak / 1024,
                "rss_after_setup_mb": before / 1024,
            }
        )
    )


def run_settlement(copy_url: str, batch_size: int) -> dict:
    env = {
        **os.environ,
        "DATABASE_URL": copy_url,
        "DJANGO_SETTINGS_MODULE": "marketplace.settings",
        "DJANGO_DEBUG": "0",
        "LOG_LEVEL": "WARNING",
    }
    env.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-" + "x" * 40)
    completed = subprocess.run(  # noqa: S603
        [PYTHON, __file__, "--child-batch-size", str(batch_size)],
        cwd=PROJECT_ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def plain_sql_settlement() -> list[str]:
    """What the job does, by hand, set-based over every due order at once (no seller is in debt
    in this data, so the debt leg is left out; the job computes it and posts none)."""
    cutoff = f"now() - interval '{HOLD_DAYS} days'"
    return [
        f"""CREATE TEMP TABLE due ON COMMIT DROP AS
            SELECT id, seller_id FROM orders_order
             WHERE status = 'completed' AND settled_at IS NULL AND completed_at <= {cutoff}
             FOR UPDATE""",
        f"""INSERT INTO ledger_ledgeraccount (code, kind, currency, created_at)
            SELECT DISTINCT 'seller:' || seller_id || ':available:{CURRENCY}', 'liability',
                   '{CURRENCY}', now() FROM due
            UNION ALL
            SELECT 'platform:commission_earned:{CURRENCY}', 'revenue', '{CURRENCY}', now()
            ON CONFLICT (code) DO NOTHING""",
        f"""CREATE TEMP TABLE still_pending ON COMMIT DROP AS
            SELECT d.id, d.seller_id,
                   -sum(e.amount_minor) FILTER (WHERE a.code LIKE 'seller:%') AS seller_left,
                   -sum(e.amount_minor) FILTER (WHERE a.code LIKE 'platform:%') AS commission_left
              FROM due d
              JOIN ledger_ledgertransaction t ON t.reference = 'seller-order:' || d.id
              JOIN ledger_ledgerentry e ON e.transaction_id = t.id
              JOIN ledger_ledgeraccount a ON a.id = e.account_id
             WHERE a.code = 'seller:' || d.seller_id || ':pending:{CURRENCY}'
                OR a.code = 'platform:commission_pending:{CURRENCY}'
             GROUP BY d.id, d.seller_id""",
        """INSERT INTO ledger_ledgertransaction (idempotency_key, kind, reference, description,
               posted_at)
           SELECT 'order-settled:' || id, 'order_settled', 'seller-order:' || id, '', now()
             FROM still_pending WHERE coalesce(seller_left, 0) <> 0 OR coalesce(commission_left, 0) <> 0""",
        f"""INSERT INTO ledger_ledgerentry (transaction_id, account_id, amount_minor, currency,
               posted_at)
            SELECT t.id, a.id, x.amount, '{CURRENCY}', now()
              FROM still_pending p
              JOIN ledger_ledgertransaction t ON t.idempotency_key = 'order-settled:' || p.id
              CROSS JOIN LATERAL (VALUES
                  ('seller:' || p.seller_id || ':pending:{CURRENCY}', p.seller_left),
                  ('seller:' || p.seller_id || ':available:{CURRENCY}', -p.seller_left),
                  ('platform:commission_pending:{CURRENCY}', p.commission_left),
                  ('platform:commission_earned:{CURRENCY}', -p.commission_left)
              ) AS x(code, amount)
              JOIN ledger_ledgeraccount a ON a.code = x.code
             WHERE coalesce(x.amount, 0) <> 0""",
        "UPDATE orders_order o SET settled_at = now() FROM due d WHERE o.id = d.id",
    ]


def run_plain_sql(copy_url: str) -> dict:
    connection = connect(copy_url)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for statement in plain_sql_settlement():
            cursor.execute(statement)
    connection.commit()  # the deferred "balanced" check of every entry runs here, as for the job
    seconds = time.perf_counter() - started
    connection.close()
    return {"seconds": seconds}


def check(copy_url: str, orders: int) -> dict:
    """Every order settled once; available and commission earned equal what was paid."""
    facts = {
        "unsettled_orders": scalar(
            copy_url, "SELECT count(*) FROM orders_order WHERE settled_at IS NULL"
        ),
        "settlement_transactions": scalar(
            copy_url, "SELECT count(*) FROM ledger_ledgertransaction WHERE kind = 'order_settled'"
        ),
        "available_minor": scalar(
            copy_url,
            """SELECT -sum(e.amount_minor) FROM ledger_ledgerentry e
                 JOIN ledger_ledgeraccount a ON a.id = e.account_id
                WHERE a.code LIKE 'seller:%:available:%'""",
        ),
        "expected_available_minor": scalar(
            copy_url, "SELECT sum(total_minor - commission_minor) FROM orders_order"
        ),
        "commission_earned_minor": scalar(
            copy_url,
            """SELECT -sum(e.amount_minor) FROM ledger_ledgerentry e
                 JOIN ledger_ledgeraccount a ON a.id = e.account_id
                WHERE a.code LIKE 'platform:commission_earned:%'""",
        ),
        "expected_commission_minor": scalar(
            copy_url, "SELECT sum(commission_minor) FROM orders_order"
        ),
    }
    facts["ok"] = (
        facts["unsettled_orders"] == 0
        and facts["settlement_transactions"] == orders
        and facts["available_minor"] == facts["expected_available_minor"]
        and facts["commission_earned_minor"] == facts["expected_commission_minor"]
    )
    return facts


# --- Report --------------------------------------------------------------------------------------


def machine() -> dict:
    url = database_url()
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "postgresql": scalar(url_for(url, url.path.lstrip("/")), "SHOW server_version"),
        "load_average_at_start": os.getloadavg(),
        "pgoptions": os.environ.get("PGOPTIONS", ""),
    }


def main() -> None:
    args = parse_arguments()
    if args.child_batch_size:
        child_settle(args.child_batch_size)
        return
    url = database_url()
    template_url = url_for(url, url.path.lstrip("/"))
    results: dict = {"machine": machine(), "parameters": vars(args) | {"json": str(args.json)}}
    print(f"Machine: {results['machine']}")
    if not args.reuse:
        print(
            f"Generating {args.orders:,} orders of {args.lines_per_order} lines "
            f"({args.orders * args.lines_per_order:,} order lines), {args.sellers:,} sellers..."
        )
        results["generation_seconds"] = generate(template_url, args)
        print(f"  generated in {results['generation_seconds']:.1f} s")
    results["data"] = generated_sizes(template_url)
    print(f"Data: {results['data']}")
    orders = results["data"]["orders"]
    copy_name = f"{url.path.lstrip('/')}_run"

    runs = []
    for batch_size in [int(size) for size in args.batch_sizes.split(",") if size]:
        started = time.perf_counter()
        copy_url = copy_database(url, copy_name)
        copy_seconds = time.perf_counter() - started
        try:
            measured = run_settlement(copy_url, batch_size)
            facts = check(copy_url, orders)
        finally:
            drop_database(url, copy_name)
        run = {"what": f"orders_settle_due(batch_size={batch_size})", **measured, "check": facts}
        runs.append(run)
        print(
            f"  {run['what']}: {measured['seconds']:.1f} s for {measured['settled']:,} orders "
            f"({measured['settled'] / measured['seconds']:,.0f} orders/s), peak RSS "
            f"{measured['peak_rss_mb']:.0f} MB (after setup {measured['rss_after_setup_mb']:.0f}"
            f" MB); copy {copy_seconds:.1f} s; checks {'ok' if facts['ok'] else facts}"
        )

    copy_url = copy_database(url, copy_name)
    try:
        plain = run_plain_sql(copy_url)
        facts = check(copy_url, orders)
    finally:
        drop_database(url, copy_name)
    results["plain_sql"] = {**plain, "check": facts}
    print(f"  plain SQL: {plain['seconds']:.1f} s; checks {'ok' if facts['ok'] else facts}")
    for run in runs:
        run["ratio_to_plain_sql"] = run["seconds"] / plain["seconds"]
        print(f"  {run['what']}: {run['ratio_to_plain_sql']:.2f}x the plain SQL")
    results["runs"] = runs
    results["load_average_at_end"] = os.getloadavg()
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
