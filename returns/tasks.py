from celery import shared_task

from returns.services.deadlines import returns_run_deadlines


@shared_task
def run_return_deadlines() -> dict[str, int]:
    """Every 5 minutes: approve unanswered requests, close unanswered offers and unshipped
    returns, refund delivered returns not confirmed in time (returns.services.deadlines). Safe to
    run twice or in parallel (each request moves with a compare-and-swap under its order's lock)."""
    return returns_run_deadlines()
