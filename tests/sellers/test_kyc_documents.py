import hashlib
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError
from django.urls import reverse

from marketplace.uploads import private_storage
from sellers.models import KycDocument, SellerRole, SellerStatus
from sellers.services import application as services
from tests.accounts.factories import StaffUserFactory, UserFactory
from tests.sellers.factories import (
    PDF_BYTES,
    ApprovedSellerFactory,
    KycDocumentFactory,
    SellerFactory,
    SellerMemberFactory,
    image_bytes,
    jpeg_upload,
    pdf_upload,
    png_claiming_size,
    png_upload,
)

pytestmark = pytest.mark.django_db

ELEVEN_MB = 11 * 1024 * 1024


def stored_files(root) -> list[Path]:
    root = Path(root)
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def hostile_uploads():
    png = image_bytes("PNG")
    return [
        pytest.param("setup.exe", b"MZ\x90\x00" + b"\0" * 200, "file_type", id="exe"),
        pytest.param("notes.txt", b"my passport number is 123", "file_type", id="txt"),
        pytest.param("huge.pdf", b"%PDF-1.4\n" + b"0" * ELEVEN_MB, "file_size", id="11MB"),
        pytest.param(
            "passport.pdf",
            b"<html><script>alert(1)</script></html>",
            "file_content",
            id="html-as-pdf",
        ),
        pytest.param("passport.pdf", png, "file_content", id="png-as-pdf"),
        pytest.param("id.png", png[: len(png) // 2], "image_corrupt", id="corrupt-png"),
        pytest.param("bomb.png", png_claiming_size(20000, 20000), "image_too_large", id="bomb"),
        pytest.param(
            "big.png", png_claiming_size(7000, 7000), "image_too_large", id="over-40-megapixels"
        ),
        pytest.param("scan.pdf", b"%PDF-1.4\nno end marker", "pdf_corrupt", id="truncated-pdf"),
    ]


# --- the service ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make_upload", "content_type", "extension"),
    [
        (pdf_upload, "application/pdf", ".pdf"),
        (jpeg_upload, "image/jpeg", ".jpg"),
        (png_upload, "image/png", ".png"),
    ],
)
def test_a_genuine_document_is_stored_privately_under_a_server_generated_name(
    settings, make_upload, content_type, extension
):
    seller = SellerFactory()
    upload = make_upload()
    content = upload.read()
    upload.seek(0)

    document = services.kyc_document_add(
        seller=seller, kind=KycDocument.Kind.PASSPORT, upload=upload, uploaded_by=seller.owner
    )

    stored = Path(private_storage.path(document.file.name)).resolve()
    assert stored.is_relative_to(Path(settings.PRIVATE_MEDIA_ROOT).resolve())
    assert stored.parent.name == str(seller.pk) and stored.parent.parent.name == "kyc"
    assert stored.suffix == extension
    assert Path(upload.name).stem not in stored.name
    assert stored.read_bytes() == content
    assert stored_files(settings.MEDIA_ROOT) == []
    assert document.original_name == upload.name
    assert document.content_type == content_type
    assert document.size_bytes == len(content)
    assert document.sha256 == hashlib.sha256(content).hexdigest()
    assert document.uploaded_by == seller.owner


@pytest.mark.parametrize(("name", "content", "code"), hostile_uploads())
def test_a_hostile_or_broken_upload_is_refused_and_nothing_is_stored(settings, name, content, code):
    seller = SellerFactory()

    with pytest.raises(services.DocumentRejected) as raised:
        services.kyc_document_add(
            seller=seller,
            kind=KycDocument.Kind.ID_CARD,
            upload=SimpleUploadedFile(name, content),
            uploaded_by=seller.owner,
        )

    assert raised.value.code == code
    assert raised.value.message
    assert not KycDocument.objects.exists()
    assert stored_files(settings.PRIVATE_MEDIA_ROOT) == []


@pytest.mark.parametrize("status", [SellerStatus.SUBMITTED, SellerStatus.APPROVED])
def test_documents_cannot_be_added_once_the_application_is_submitted(settings, status):
    seller = SellerFactory(status=status)

    with pytest.raises(services.ApplicationNotEditable):
        services.kyc_document_add(
            seller=seller, kind="passport", upload=pdf_upload(), uploaded_by=seller.owner
        )

    assert not KycDocument.objects.exists()
    assert stored_files(settings.PRIVATE_MEDIA_ROOT) == []


def test_only_the_owner_can_add_documents(settings):
    seller = SellerFactory()
    admin = SellerMemberFactory(seller=seller, role=SellerRole.ADMIN).user

    with pytest.raises(services.NotTheOwner):
        services.kyc_document_add(
            seller=seller, kind="passport", upload=pdf_upload(), uploaded_by=admin
        )

    assert not KycDocument.objects.exists()
    assert stored_files(settings.PRIVATE_MEDIA_ROOT) == []


def test_a_failed_database_write_leaves_no_file_behind(settings, monkeypatch):
    seller = SellerFactory()

    def fail(*args, **kwargs):
        raise DatabaseError("disk full")

    monkeypatch.setattr(KycDocument.objects, "create", fail)

    with pytest.raises(DatabaseError):
        services.kyc_document_add(
            seller=seller, kind="passport", upload=pdf_upload(), uploaded_by=seller.owner
        )

    assert stored_files(settings.PRIVATE_MEDIA_ROOT) == []


def test_removing_a_document_deletes_the_row_and_then_the_file(django_capture_on_commit_callbacks):
    seller = SellerFactory()
    document = services.kyc_document_add(
        seller=seller, kind="passport", upload=pdf_upload(), uploaded_by=seller.owner
    )
    stored = Path(private_storage.path(document.file.name))

    with django_capture_on_commit_callbacks(execute=True):
        services.kyc_document_remove(seller=seller, document_id=document.pk, actor=seller.owner)

    assert not KycDocument.objects.exists()
    assert not stored.exists()


def test_another_sellers_document_cannot_be_removed():
    seller = SellerFactory()
    other_document = KycDocumentFactory(seller=SellerFactory())

    with pytest.raises(services.DocumentNotFound):
        services.kyc_document_remove(
            seller=seller, document_id=other_document.pk, actor=seller.owner
        )

    assert KycDocument.objects.filter(pk=other_document.pk).exists()


def test_documents_of_a_submitted_application_cannot_be_removed():
    seller = SellerFactory(status=SellerStatus.SUBMITTED)
    document = KycDocumentFactory(seller=seller)

    with pytest.raises(services.ApplicationNotEditable):
        services.kyc_document_remove(seller=seller, document_id=document.pk, actor=seller.owner)

    assert KycDocument.objects.filter(pk=document.pk).exists()


# --- uploading through the Seller Center ---------------------------------------------------


def upload_url():
    return reverse("seller_center:kyc_document_upload")


def test_the_owner_uploads_a_document_from_the_application_page(client):
    seller = SellerFactory()
    client.force_login(seller.owner)

    response = client.post(
        upload_url(), {"kind": "passport", "file": pdf_upload("my passport.pdf")}, follow=True
    )

    document = KycDocument.objects.get(seller=seller)
    assert document.original_name == "my passport.pdf"
    assert response.redirect_chain[-1][0] == reverse("seller_center:application")
    html = response.content.decode()
    assert "Passport uploaded (my passport.pdf)." in html
    assert reverse("seller_center:kyc_document_download", args=[document.pk]) in html


@pytest.mark.parametrize(("name", "content", "code"), hostile_uploads())
def test_a_refused_upload_shows_its_reason_next_to_the_file_field(
    client, settings, name, content, code
):
    seller = SellerFactory()
    client.force_login(seller.owner)

    response = client.post(
        upload_url(), {"kind": "id_card", "file": SimpleUploadedFile(name, content)}
    )

    assert response.status_code == 400
    form = response.context["document_form"]
    assert form.errors["file"]
    assert form.has_error("file", code)
    assert 'id="id_file_error"' in response.content.decode()
    assert not KycDocument.objects.exists()
    assert stored_files(settings.PRIVATE_MEDIA_ROOT) == []


def test_an_upload_without_a_document_type_is_refused_next_to_the_field(client):
    seller = SellerFactory()
    client.force_login(seller.owner)

    response = client.post(upload_url(), {"kind": "", "file": pdf_upload()})

    assert response.context["document_form"].errors["kind"]
    assert not KycDocument.objects.exists()


def test_the_upload_form_posts_files_as_multipart(client):
    seller = SellerFactory()
    client.force_login(seller.owner)

    html = client.get(reverse("seller_center:application")).content.decode()

    assert 'enctype="multipart/form-data"' in html
    assert 'name="kind"' in html and 'type="file"' in html


def test_the_owner_removes_a_document(client, django_capture_on_commit_callbacks):
    seller = SellerFactory()
    document = KycDocumentFactory(seller=seller)
    client.force_login(seller.owner)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("seller_center:kyc_document_remove", args=[document.pk]), follow=True
        )

    assert not KycDocument.objects.exists()
    assert "The document is removed from your application." in response.content.decode()


def test_removing_another_sellers_document_answers_404(client):
    seller = SellerFactory()
    other_document = KycDocumentFactory(seller=SellerFactory())
    client.force_login(seller.owner)

    response = client.post(reverse("seller_center:kyc_document_remove", args=[other_document.pk]))

    assert response.status_code == 404
    assert KycDocument.objects.filter(pk=other_document.pk).exists()


@pytest.mark.parametrize("url_name", ["kyc_document_upload", "kyc_document_remove"])
def test_staff_of_the_seller_who_are_not_the_owner_cannot_change_documents(client, url_name):
    seller = SellerFactory()
    document = KycDocumentFactory(seller=seller)
    client.force_login(SellerMemberFactory(seller=seller, role=SellerRole.ADMIN).user)
    args = [document.pk] if url_name == "kyc_document_remove" else []

    response = client.post(
        reverse(f"seller_center:{url_name}", args=args), {"kind": "passport", "file": pdf_upload()}
    )

    assert response.status_code == 404
    assert list(KycDocument.objects.values_list("pk", flat=True)) == [document.pk]


# --- downloading ---------------------------------------------------------------------------


def download(client, document):
    return client.get(reverse("seller_center:kyc_document_download", args=[document.pk]))


def assert_served_as_attachment(response, document):
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("attachment;")
    assert document.original_name in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == PDF_BYTES


def test_the_owner_downloads_a_document_as_an_attachment(client):
    document = KycDocumentFactory(seller=SellerFactory(), original_name="passport.pdf")
    client.force_login(document.seller.owner)

    assert_served_as_attachment(download(client, document), document)


def test_a_shop_admin_cannot_open_the_owners_identity_documents(client):
    # The page promises "only you and the marketplace team can see them".
    seller = ApprovedSellerFactory()
    document = KycDocumentFactory(seller=seller)
    client.force_login(SellerMemberFactory(seller=seller, role=SellerRole.ADMIN).user)

    assert download(client, document).status_code == 404
    page = client.get(reverse("seller_center:application")).content.decode()
    assert document.original_name in page
    assert reverse("seller_center:kyc_document_download", args=[document.pk]) not in page


def test_platform_staff_may_download_any_document(client):
    document = KycDocumentFactory(seller=SellerFactory())
    client.force_login(StaffUserFactory())

    assert_served_as_attachment(download(client, document), document)


def test_a_member_without_the_settings_section_gets_404(client):
    seller = ApprovedSellerFactory()
    document = KycDocumentFactory(seller=seller)
    client.force_login(SellerMemberFactory(seller=seller, role=SellerRole.PRODUCT_MANAGER).user)

    assert download(client, document).status_code == 404


def test_another_sellers_owner_gets_404(client):
    document = KycDocumentFactory(seller=SellerFactory())
    client.force_login(SellerFactory().owner)

    assert download(client, document).status_code == 404


def test_a_shopper_gets_404(client):
    document = KycDocumentFactory(seller=SellerFactory())
    client.force_login(UserFactory())

    assert download(client, document).status_code == 404


def test_a_visitor_is_asked_to_sign_in(client):
    document = KycDocumentFactory(seller=SellerFactory())

    response = download(client, document)

    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_a_document_whose_file_is_missing_answers_404(client):
    document = KycDocumentFactory(seller=SellerFactory())
    private_storage.delete(document.file.name)
    client.force_login(document.seller.owner)

    assert download(client, document).status_code == 404
