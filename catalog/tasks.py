"""Catalog background jobs. Thin: ids in, the service re-reads the rows and does the work."""

from celery import shared_task

from catalog.services import bulk_upload as bulk_upload_services


@shared_task
def bulk_upload_process(bulk_upload_id: int) -> None:
    """Import a queued bulk upload. Safe to run twice: the service starts only a queued upload."""
    bulk_upload_services.bulk_upload_process(bulk_upload_id=bulk_upload_id)
