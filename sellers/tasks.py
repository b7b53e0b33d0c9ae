from celery import shared_task
from django.contrib.auth import get_user_model

from sellers.services.payouts import payouts_run


# 5,000 payouts at 20 gateway calls a second take about 250 s: more than the default limits.
@shared_task(soft_time_limit=45 * 60, time_limit=50 * 60)
def run_payouts(requested_by_id: int | None = None) -> dict[str, int]:
    """Daily, and when staff ask (`requested_by_id`: the staff user, recorded on the payouts it
    creates): pay every seller whose available balance is due, and send the payouts a crashed run
    left pending (sellers.services.payouts). Safe to redeliver and to run twice at once: each
    payout is created once (one in flight per seller), its transfer carries the payout's stored
    idempotency key, and each ledger key posts once."""
    requested_by = None
    if requested_by_id is not None:
        requested_by = get_user_model().objects.filter(pk=requested_by_id).first()
    return payouts_run(requested_by=requested_by)
