"""Photos and documents attached to requests and disputes (returns.services.evidence): checked
before anything is written, stored privately under a server-made name, and never left behind
by a step that was refused."""

from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from returns.models import EvidenceStage, Party, RequestKind, RequestReason, ReturnEvidence
from returns.services.common import ReturnRefused
from returns.services.disputes import dispute_add_statement, return_escalate
from returns.services.requests import (
    LineAlreadyRequested,
    return_reject,
    return_request_create,
)
from returns.services.shipping import return_confirm_receipt, return_report_problem
from tests.returns.factories import (
    delivered_order,
    rejected_request,
    return_parcel_delivered,
    return_request,
    shipped_back,
)
from tests.sellers.factories import jpeg_upload, pdf_upload, png_claiming_size, png_upload

pytestmark = pytest.mark.django_db


def files_under(root) -> list[Path]:
    root = Path(root)
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


def stored_files() -> list[Path]:
    return files_under(settings.PRIVATE_MEDIA_ROOT) + files_under(settings.MEDIA_ROOT)


def ask(order, *, photos, quantities=None):
    return return_request_create(
        order_id=order.pk,
        buyer=order.buyer,
        kind=RequestKind.RETURN_AND_REFUND,
        reason=RequestReason.DAMAGED,
        quantities=quantities or {line.pk: line.quantity for line in order.lines.all()},
        photos=photos,
    )


def refused_with_nothing_written(code, call):
    with pytest.raises(ReturnRefused) as error:
        call()
    assert error.value.code == code, error.value
    assert not ReturnEvidence.objects.exists()
    assert stored_files() == []
    return error.value


def test_photos_are_stored_privately_under_a_name_of_the_servers(seller):
    order = delivered_order(seller)

    request = ask(order, photos=[png_upload("crushed box.png"), jpeg_upload("IMG_0042.JPG")])

    evidence = list(request.evidence.order_by("id"))
    assert [(e.party, e.stage, e.uploaded_by) for e in evidence] == [
        (Party.BUYER, EvidenceStage.REQUEST, order.buyer)
    ] * 2
    assert [(e.original_name, e.content_type) for e in evidence] == [
        ("crushed box.png", "image/png"),
        ("IMG_0042.JPG", "image/jpeg"),
    ]
    private = Path(settings.PRIVATE_MEDIA_ROOT)
    for item in evidence:
        path = private / item.file.name
        assert path.is_file()
        assert item.file.name.startswith(f"returns/{order.pk}/")
        assert "crushed" not in item.file.name and "IMG" not in item.file.name
    assert [e.file.name.rsplit(".", 1)[1] for e in evidence] == ["png", "jpg"]
    assert files_under(settings.MEDIA_ROOT) == []
    assert len(files_under(private)) == 2
    with pytest.raises(ValueError):
        evidence[0].file.url  # noqa: B018 - private files have no URL


def test_a_text_file_named_png_is_refused(seller):
    order = delivered_order(seller)
    fake = SimpleUploadedFile("photo.png", b"just some text, not a picture", "image/png")

    error = refused_with_nothing_written("bad_file", lambda: ask(order, photos=[fake]))

    assert "photo.png" in str(error)
    assert not order.return_requests.exists()


def test_a_pdf_is_not_a_buyers_photo(seller):
    order = delivered_order(seller)

    refused_with_nothing_written("bad_file", lambda: ask(order, photos=[pdf_upload()]))
    assert not order.return_requests.exists()


def test_a_buyer_escalating_attaches_photos_only(seller):
    order = delivered_order(seller)
    request = rejected_request(order)

    refused_with_nothing_written(
        "bad_file",
        lambda: return_escalate(
            request_id=request.pk,
            party=Party.BUYER,
            user=order.buyer,
            statement="Look.",
            evidence=[pdf_upload()],
        ),
    )


def test_a_seller_may_prove_a_rejection_with_a_pdf(seller):
    order = delivered_order(seller)
    request = return_request(order)

    return_reject(
        request_id=request.pk,
        seller=seller,
        actor=seller.owner,
        reason_text="See the courier's report.",
        evidence=[pdf_upload("courier-report.pdf"), png_upload()],
    )

    evidence = list(request.evidence.order_by("id"))
    assert [(e.party, e.stage, e.content_type) for e in evidence] == [
        (Party.SELLER, EvidenceStage.REJECTION, "application/pdf"),
        (Party.SELLER, EvidenceStage.REJECTION, "image/png"),
    ]
    assert all((Path(settings.PRIVATE_MEDIA_ROOT) / e.file.name).is_file() for e in evidence)


def test_evidence_at_receipt_and_in_a_dispute_is_kept_with_its_stage(seller):
    order = delivered_order(seller)
    shipped = return_parcel_delivered(shipped_back(order))
    return_report_problem(
        request_id=shipped.pk,
        seller=seller,
        actor=seller.owner,
        statement="A brick came back.",
        evidence=[jpeg_upload()],
    )
    dispute_add_statement(
        request_id=shipped.pk,
        party=Party.BUYER,
        user=order.buyer,
        statement="I sent the teapot.",
        evidence=[png_upload()],
    )

    assert list(shipped.evidence.order_by("id").values_list("party", "stage")) == [
        (Party.SELLER, EvidenceStage.RECEIPT),
        (Party.BUYER, EvidenceStage.DISPUTE),
    ]
    assert len(files_under(settings.PRIVATE_MEDIA_ROOT)) == 2


def test_seven_files_are_refused_and_six_are_accepted(seller):
    order = delivered_order(seller)

    refused_with_nothing_written(
        "too_many_files",
        lambda: ask(order, photos=[png_upload(f"{i}.png") for i in range(7)]),
    )

    request = ask(order, photos=[png_upload(f"{i}.png") for i in range(6)])
    assert request.evidence.count() == 6


def test_a_pixel_bomb_is_refused_before_it_is_decoded(seller):
    order = delivered_order(seller)
    bomb = SimpleUploadedFile("bomb.png", png_claiming_size(20000, 20000), "image/png")

    error = refused_with_nothing_written("bad_file", lambda: ask(order, photos=[bomb]))

    assert "too large" in str(error)


def test_a_request_refused_after_its_photos_were_checked_leaves_no_file(seller):
    order = delivered_order(seller, (2500, 2))
    line = order.lines.get()

    refused_with_nothing_written(
        "quantity_too_large",
        lambda: ask(order, photos=[png_upload(), jpeg_upload()], quantities={line.pk: 3}),
    )
    assert not order.return_requests.exists()


def test_a_second_request_on_the_same_units_leaves_no_file(seller):
    order = delivered_order(seller)
    return_request(order)

    with pytest.raises(LineAlreadyRequested):
        ask(order, photos=[png_upload()])

    assert not ReturnEvidence.objects.exists()
    assert stored_files() == []


def test_a_step_refused_because_the_request_moved_on_leaves_no_file(seller):
    order = delivered_order(seller)
    request = return_parcel_delivered(shipped_back(order))
    return_confirm_receipt(request_id=request.pk, seller=seller)

    refused_with_nothing_written(
        "already_moved",
        lambda: return_report_problem(
            request_id=request.pk,
            seller=seller,
            actor=seller.owner,
            statement="Broken.",
            evidence=[png_upload()],
        ),
    )
