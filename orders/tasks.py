from celery import shared_task

from orders.services.checkout import orders_expire_unpaid


@shared_task
def expire_unpaid_orders() -> int:
    """Every minute: cancel unpaid orders past their expiry and release their stock. Safe to run
    twice or in parallel (each order moves with a compare-and-swap)."""
    return orders_expire_unpaid()
