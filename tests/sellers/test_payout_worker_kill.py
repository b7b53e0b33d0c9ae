"""kill -9 in the middle of a payout run (issue 12): a real worker process is killed with SIGKILL
while the gateway holds a transfer it has written but not yet answered for; the task, never
acknowledged (acks_late), is delivered again by the broker to a new worker, which finishes the
run. Exactly one transfer and one ledger transaction of each kind per payout must remain.

PostgreSQL and Redis only: the worker and the test share the database, and redelivery of an
unacknowledged task after a worker died is the Redis transport's (visibility timeout). The new
worker runs with a visibility timeout of a few seconds (a settings module written for it), so
the message the dead worker held becomes visible again at once instead of after two hours."""

import os
import signal
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Count

from marketplace import celery_app
from marketplace.ledger import accounts
from marketplace.ledger.models import LedgerTransaction
from marketplace.ledger.services import Leg, ledger_balance, ledger_post
from marketplace.money import Money
from marketplace.payments.local_money import TRANSFER_DELAY_ENV
from marketplace.payments.models import LocalConnectedAccount, LocalTransfer
from sellers.models import Payout
from sellers.tasks import run_payouts
from tests.celery_worker import ROOT, database_url_of_the_test_database
from tests.sellers.factories import ApprovedSellerFactory, PayoutAccountFactory

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql" or not settings.REDIS_URL,
        reason="needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL): a worker process shares "
        "the database, and redelivery after a worker dies is the Redis transport's",
    ),
    pytest.mark.django_db(transaction=True),
]

USD = "USD"
SELLERS = 4
TRANSFER_DELAY_MS = 2500
REDELIVERY_VISIBILITY_SECONDS = 3


def payable_seller(available: int):
    seller = ApprovedSellerFactory()
    account = PayoutAccountFactory(seller=seller)
    LocalConnectedAccount.objects.create(
        external_id=account.external_id,
        email=seller.contact_email,
        country="US",
        details_submitted=True,
    )
    ledger_post(
        idempotency_key=f"test-credit:{uuid.uuid4().hex}",
        kind="test_credit",
        legs=[
            Leg(accounts.gateway_cash(USD), Money(available, USD)),
            Leg(accounts.seller_available(seller.pk, USD), Money(-available, USD)),
        ],
    )
    return seller


@contextmanager
def worker(queue: str, *, extra_env: dict[str, str]):
    """A solo `celery worker` on `queue` (as tests/celery_worker.py starts one, but on a queue
    given, so a second worker can take over the first one's), yielding the process itself."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": database_url_of_the_test_database(),
        **extra_env,
    }
    command = [sys.executable, "-m", "celery", "-A", "marketplace", "worker", "--pool", "solo"]
    command += ["--queues", queue, "--hostname", f"{queue}-{uuid.uuid4().hex[:6]}@%h"]
    command += ["--without-gossip", "--without-mingle", "--loglevel", "INFO"]
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
        try:
            output, _ = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
        process.log = output
        print(output[-4000:])


def caught_in_the_window() -> list[int]:
    """Ids of pending payouts whose transfer the gateway already wrote, once one payout is paid."""
    if not Payout.objects.filter(status=Payout.Status.PAID).exists():
        return []
    transferred = LocalTransfer.objects.values("idempotency_key")
    return list(
        Payout.objects.filter(
            status=Payout.Status.PENDING, idempotency_key__in=transferred
        ).values_list("id", flat=True)
    )


def wait_for(condition, *, seconds: float = 60, every: float = 0.05) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return False


def test_a_worker_killed_mid_run_leaves_one_transfer_and_one_ledger_transaction_per_payout(
    tmp_path,
):
    amounts = [2000 + 100 * i for i in range(SELLERS)]
    sellers = [payable_seller(amount) for amount in amounts]
    cash_before = ledger_balance(accounts.gateway_cash(USD)).amount_minor
    queue = f"test-payout-kill-{uuid.uuid4().hex}"

    # 1. A worker starts the run; each transfer is held 2.5 s after the gateway wrote it.
    with worker(queue, extra_env={TRANSFER_DELAY_ENV: str(TRANSFER_DELAY_MS)}) as first:
        celery_app.conf.task_always_eager = False  # send it to the broker, not inline
        try:
            task_id = run_payouts.apply_async(queue=queue).id
        finally:
            celery_app.conf.task_always_eager = True
        # Kill it once a payout is paid and another's transfer is written at the gateway but
        # the worker has not heard back yet (the transfer's answer is held): the others wait.
        assert wait_for(caught_in_the_window, seconds=90), "the run did not reach the window"
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=20)
    assert first.returncode == -signal.SIGKILL

    assert Payout.objects.count() == SELLERS  # all created before any transfer
    caught = caught_in_the_window()
    assert caught, "the kill did not land between a transfer and its record"
    assert Payout.objects.filter(status=Payout.Status.PENDING).count() >= 1

    # 2. A new worker, with a short visibility timeout, gets the unacknowledged task again.
    (tmp_path / "payout_kill_settings.py").write_text(
        "from tests.settings import *  # noqa: F403\n"
        "from tests.settings import CELERY_BROKER_TRANSPORT_OPTIONS\n"
        "CELERY_BROKER_TRANSPORT_OPTIONS = {\n"
        "    **CELERY_BROKER_TRANSPORT_OPTIONS,\n"
        f"    'visibility_timeout': {REDELIVERY_VISIBILITY_SECONDS},\n"
        "    'unacked_restore_interval': 1,\n"
        "    'unacked_restore_throttle': 1,\n"
        "}\n"
    )
    second_env = {
        "DJANGO_SETTINGS_MODULE": "payout_kill_settings",
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)]),
    }
    with worker(queue, extra_env=second_env) as second:
        assert wait_for(
            lambda: Payout.objects.filter(status=Payout.Status.PAID).count() == SELLERS,
            seconds=90,
            every=0.25,
        ), "the task was not redelivered and finished within 90 s"
    assert f"sellers.tasks.run_payouts[{task_id}] received" in second.log  # the same message

    # 3. Exactly once, whatever was in flight when the worker died.
    per_seller = dict(Payout.objects.values_list("seller_id").annotate(n=Count("id")))
    assert per_seller == {seller.pk: 1 for seller in sellers}
    payouts = list(Payout.objects.order_by("id"))
    assert sorted(p.amount_minor for p in payouts) == sorted(amounts)
    transfers = {t.idempotency_key: t for t in LocalTransfer.objects.all()}
    assert len(transfers) == LocalTransfer.objects.count() == SELLERS
    for payout in payouts:
        transfer = transfers[payout.idempotency_key]
        assert payout.gateway_transfer_id == transfer.external_id
        assert transfer.amount_minor == payout.amount_minor
        for key in (f"payout-created:{payout.pk}", f"payout-paid:{payout.pk}"):
            assert LedgerTransaction.objects.filter(idempotency_key=key).count() == 1
    assert LedgerTransaction.objects.filter(kind="payout_created").count() == SELLERS
    assert LedgerTransaction.objects.filter(kind="payout_paid").count() == SELLERS
    assert not LedgerTransaction.objects.filter(kind="payout_failed").exists()
    # the payout caught in the window was asked twice, with its one key, and paid once
    caught = Payout.objects.filter(pk__in=caught)
    assert {(p.status, p.attempts) for p in caught} == {(Payout.Status.PAID, 2)}
    for seller in sellers:
        assert ledger_balance(accounts.seller_available(seller.pk, USD)).amount_minor == 0
        assert ledger_balance(accounts.seller_payout_in_transit(seller.pk, USD)).amount_minor == 0
    cash_after = ledger_balance(accounts.gateway_cash(USD)).amount_minor
    assert cash_after == cash_before - sum(amounts)
