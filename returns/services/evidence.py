"""Photos and documents attached to a request or a dispute.

Each file is checked like every upload of the marketplace (marketplace.uploads.check_document:
extension, declared type and magic bytes agree; size; images decode fully within the pixel limit,
so a pixel bomb or a polyglot is refused) *before* anything is written, then stored privately
under a server-made name by `evidence_stored`, around the step's transaction: if the step is
refused or fails, the files written are deleted again. At most MAX_FILES per submission.
"""

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from marketplace.uploads import (
    CheckedDocument,
    check_document,
    display_file_name,
    stored_private_file,
)
from returns.models import ReturnEvidence
from returns.services.common import ReturnRefused

MAX_FILES = 6
# Each side may attach this many files to one request in all (statements can be sent again).
MAX_FILES_PER_PARTY = 18


@dataclass(frozen=True)
class CheckedUpload:
    upload: object
    document: CheckedDocument
    name: str


def evidence_check(uploads, *, photos_only: bool) -> list[CheckedUpload]:
    """The uploads, checked; raises ReturnRefused naming the file at fault. `photos_only`: JPEG
    and PNG (the buyer's photos); otherwise PDF too (a seller's proof)."""
    uploads = [upload for upload in (uploads or []) if upload]
    if len(uploads) > MAX_FILES:
        raise ReturnRefused(f"Attach at most {MAX_FILES} files.", code="too_many_files")
    checked = []
    for upload in uploads:
        name = display_file_name(getattr(upload, "name", ""), default="photo")
        try:
            document = check_document(upload)
        except ValidationError as error:
            raise ReturnRefused(f"{name}: {' '.join(error.messages)}", code="bad_file") from None
        if photos_only and document.kind == "pdf":
            raise ReturnRefused(f"{name}: attach photos (JPEG or PNG).", code="bad_file")
        checked.append(CheckedUpload(upload=upload, document=document, name=name))
    return checked


@contextmanager
def evidence_stored(checked: list[CheckedUpload], *, order_id: int) -> Iterator[list[tuple]]:
    """Store the checked uploads; yields [(stored name, CheckedUpload)]. Wrap the step's
    transaction in it: an exception inside deletes every file again."""
    with ExitStack() as stack:
        stored = []
        for item in checked:
            item.upload.seek(0)
            name = stack.enter_context(
                stored_private_file(
                    item.upload, folder=f"returns/{order_id}", extension=item.document.extension
                )
            )
            stored.append((name, item))
        yield stored


def evidence_record(*, request, stored, party: str, stage: str, user) -> list[ReturnEvidence]:
    """Record stored files for the request; refuses (the caller's block then deletes the files)
    beyond MAX_FILES_PER_PARTY for one side of one request."""
    if not stored:
        return []
    already = ReturnEvidence.objects.filter(request=request, party=party).count()
    if already + len(stored) > MAX_FILES_PER_PARTY:
        raise ReturnRefused(
            f"This request already holds {already} of your files; at most "
            f"{MAX_FILES_PER_PARTY} in all.",
            code="too_many_files",
        )
    return ReturnEvidence.objects.bulk_create(
        [
            ReturnEvidence(
                request=request,
                party=party,
                stage=stage,
                file=name,
                original_name=item.name,
                content_type=item.document.content_type,
                uploaded_by=user,
            )
            for name, item in stored
        ]
    )
