"""marketplace.uploads.stored_private_file: the one place a private document is stored with the
database write that records it. No row, no file: whatever stops the write removes the file."""

from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.db import DatabaseError

from marketplace.uploads import private_storage, stored_private_file
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


def stored_files(settings) -> list[Path]:
    root = Path(settings.PRIVATE_MEDIA_ROOT)
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def test_the_file_is_kept_under_a_server_generated_name_when_the_write_succeeds(settings):
    with stored_private_file(ContentFile(b"%PDF-1.4"), folder="kyc/7", extension=".pdf") as name:
        user = UserFactory()

    assert name.startswith("kyc/7/") and name.endswith(".pdf")
    assert private_storage.open(name).read() == b"%PDF-1.4"
    assert [path.name for path in stored_files(settings)] == [Path(name).name]
    assert type(user).objects.filter(pk=user.pk).exists()


@pytest.mark.parametrize("error", [DatabaseError("disk full"), KeyboardInterrupt()])
def test_the_file_and_the_write_are_undone_together_when_the_block_raises(settings, error):
    with (
        pytest.raises(type(error)),
        stored_private_file(ContentFile(b"%PDF-1.4"), folder="kyc/7", extension=".pdf"),
    ):
        user = UserFactory()
        raise error

    assert stored_files(settings) == []
    assert not type(user).objects.filter(pk=user.pk).exists()


def test_a_refusal_inside_the_block_leaves_no_file(settings):
    class Refused(Exception):
        pass

    with (
        pytest.raises(Refused),
        stored_private_file(ContentFile(b"x"), folder="ip_appeals/3", extension=".png"),
    ):
        raise Refused

    assert stored_files(settings) == []
