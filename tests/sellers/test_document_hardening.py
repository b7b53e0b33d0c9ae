"""Uploaded identity and qualification documents: what a hostile or broken file cannot get past,
and how stored documents are named and served. Regressions from the issue 3 review."""

import io
import random
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.urls import reverse
from PIL import Image

from marketplace.uploads import check_private_media_root_is_not_public, display_file_name
from sellers.models import KycDocument, SellerStatus
from sellers.services import application as services
from tests.sellers.factories import (
    PDF_BYTES,
    ApprovedSellerFactory,
    KycDocumentFactory,
    SellerFactory,
    image_bytes,
)

pytestmark = pytest.mark.django_db


def noisy_image_bytes(image_format: str, size=(320, 240)) -> bytes:
    """A photo-like image: noise compresses badly, so the file has real entropy-coded data."""
    generator = random.Random(7)
    pixels = bytes(generator.getrandbits(8) for _ in range(size[0] * size[1] * 3))
    buffer = io.BytesIO()
    Image.frombytes("RGB", size, pixels).save(buffer, image_format)
    return buffer.getvalue()


def add(seller, name, content):
    return services.kyc_document_add(
        seller=seller,
        kind=KycDocument.Kind.PASSPORT,
        upload=SimpleUploadedFile(name, content),
        uploaded_by=seller.owner,
    )


def stored_files(root) -> list[Path]:
    root = Path(root)
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def hostile_files():
    jpeg = noisy_image_bytes("JPEG")
    png = image_bytes("PNG")
    return [
        pytest.param("id.jpg", jpeg[: len(jpeg) * 9 // 10], "image_corrupt", id="truncated-jpeg"),
        pytest.param("id.jpg", jpeg[:-2], "image_corrupt", id="jpeg-without-end-marker"),
        pytest.param(
            "id.png", png + b"garbage after the end", "image_trailing_data", id="png-junk"
        ),
        pytest.param(
            "id.png", png + b"PK\x03\x04" + b"\0" * 64, "image_trailing_data", id="png-zip"
        ),
        pytest.param(
            "id.jpg", jpeg + b"PK\x03\x04" + b"\0" * 64, "image_trailing_data", id="jpeg-zip"
        ),
        pytest.param(
            "id.jpg",
            jpeg + b"<html><script>alert(document.cookie)</script></html>",
            "file_active_content",
            id="jpeg-html-polyglot",
        ),
        pytest.param(
            "scan.pdf",
            b"%PDF-1.4\n<html><body><script>alert(1)</script></body></html>\n%%EOF\n",
            "file_active_content",
            id="pdf-html-polyglot",
        ),
    ]


@pytest.mark.parametrize(("name", "content", "code"), hostile_files())
def test_a_broken_or_polyglot_image_or_pdf_is_refused_and_nothing_is_stored(
    settings, name, content, code
):
    seller = SellerFactory()

    with pytest.raises(services.DocumentRejected) as raised:
        add(seller, name, content)

    assert raised.value.code == code
    assert raised.value.message
    assert not KycDocument.objects.exists()
    assert stored_files(settings.PRIVATE_MEDIA_ROOT) == []


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(noisy_image_bytes("JPEG"), id="plain"),
        pytest.param(
            noisy_image_bytes("JPEG") + b"\0\0SEFH" + bytes(range(256)) * 8 + b"SEFT",
            id="phone-trailer",
        ),
    ],
)
def test_a_genuine_photo_is_accepted_even_with_a_phone_makers_trailer(content):
    seller = SellerFactory()

    document = add(seller, "id.jpg", content)

    assert document.content_type == "image/jpeg"


def test_a_progressive_jpeg_is_accepted():
    buffer = io.BytesIO()
    Image.new("RGB", (200, 100), (10, 120, 200)).save(buffer, "JPEG", progressive=True)

    document = add(SellerFactory(), "id.jpg", buffer.getvalue())

    assert document.content_type == "image/jpeg"


@pytest.mark.parametrize(
    ("uploaded", "shown"),
    [
        ("C:\\Users\\ann\\passport.pdf", "passport.pdf"),
        ("../../etc/passport.pdf", "passport.pdf"),
        ("passport\u202egnp.pdf", "passportgnp.pdf"),
        ("pa\u0073\u0301port.pdf", "pa\u015bport.pdf"),
        ("\x00\x1f.pdf", "pdf"),
        ("", "document"),
        ("a" * 300 + ".pdf", "a" * 251 + ".pdf"),
    ],
)
def test_the_uploaders_file_name_is_shown_without_paths_or_direction_tricks(uploaded, shown):
    assert display_file_name(uploaded) == shown


def test_the_stored_name_of_a_document_drops_path_and_control_characters():
    document = add(SellerFactory(), "scans\\passport\u202egnp.pdf", PDF_BYTES)

    assert document.original_name == "passportgnp.pdf"


def test_an_application_holds_a_limited_number_of_documents(settings):
    seller = SellerFactory()
    KycDocumentFactory.create_batch(services.MAX_KYC_DOCUMENTS, seller=seller)

    with pytest.raises(services.TooManyDocuments):
        add(seller, "one-more.pdf", PDF_BYTES)

    assert KycDocument.objects.filter(seller=seller).count() == services.MAX_KYC_DOCUMENTS
    assert stored_files(settings.PRIVATE_MEDIA_ROOT / "kyc") == []


def test_removing_another_sellers_document_answers_404_even_once_approved(client):
    approved = ApprovedSellerFactory()
    other_document = KycDocumentFactory(seller=SellerFactory())
    client.force_login(approved.owner)

    response = client.post(reverse("seller_center:kyc_document_remove", args=[other_document.pk]))

    assert response.status_code == 404
    assert KycDocument.objects.filter(pk=other_document.pk).exists()


def test_removing_ones_own_document_after_submission_is_refused_with_a_message():
    seller = SellerFactory(status=SellerStatus.SUBMITTED)
    document = KycDocumentFactory(seller=seller)

    with pytest.raises(services.ApplicationNotEditable):
        services.kyc_document_remove(seller=seller, document_id=document.pk, actor=seller.owner)

    assert KycDocument.objects.filter(pk=document.pk).exists()


def test_a_downloaded_document_is_sandboxed_should_a_browser_open_it(client):
    document = KycDocumentFactory(seller=SellerFactory())
    client.force_login(document.seller.owner)

    response = client.get(reverse("seller_center:kyc_document_download", args=[document.pk]))

    assert response.status_code == 200
    assert response["Content-Security-Policy"].startswith("sandbox")
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_private_documents_inside_the_public_media_folder_fail_the_system_check(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "media" / "private"

    [error] = check_private_media_root_is_not_public()

    assert error.id == "marketplace.E101"
    with pytest.raises(SystemCheckError):
        call_command("check", tags=["security"])


def test_private_documents_outside_the_public_folders_pass_the_system_check(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"

    assert check_private_media_root_is_not_public() == []
