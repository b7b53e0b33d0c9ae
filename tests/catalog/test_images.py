"""Product images: only genuine JPEG (a phone's MPO photo included), PNG and WebP within the
limits are stored, always
re-encoded (no EXIF), resized, with a thumbnail, under server-generated names; remove and reorder."""

import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from catalog.models import ProductImage
from catalog.services import images
from catalog.services.images import product_image_add
from tests.catalog.factories import bomb_png_upload, draft_product, image_bytes, image_upload

pytestmark = pytest.mark.django_db


def stored_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def opened(field) -> Image.Image:
    with field.open("rb") as handle:
        image = Image.open(io.BytesIO(handle.read()))
        image.load()
    return image


def gps_exif() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # camera make
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0)}  # GPS IFD
    return exif.tobytes()


def test_a_photo_is_re_encoded_resized_stripped_of_exif_and_given_a_thumbnail():
    product = draft_product()
    upload = image_upload("IMG_0001 home.jpg", size=(3200, 2400), exif=gps_exif())

    image = images.product_image_add(product=product, upload=upload)

    large, thumbnail = opened(image.image), opened(image.thumbnail)
    assert large.format == "JPEG" and large.size == (1600, 1200)
    assert (image.width, image.height) == (1600, 1200)
    assert max(thumbnail.size) == 400
    assert not large.getexif() and "exif" not in large.info
    assert "IMG_0001" not in image.image.name and "home" not in image.image.name
    assert image.image.name.endswith(".jpg") and image.position == 0


def test_a_small_image_is_not_enlarged():
    image = images.product_image_add(product=draft_product(), upload=image_upload(size=(640, 480)))

    assert opened(image.image).size == (640, 480)
    assert opened(image.thumbnail).size == (400, 300)


@pytest.mark.parametrize(
    ("name", "image_format", "mode"),
    [("logo.png", "PNG", "RGBA"), ("photo.webp", "WEBP", "RGB"), ("photo.jpeg", "JPEG", "RGB")],
)
def test_png_webp_and_jpeg_are_accepted_and_stored_as_jpeg(name, image_format, mode):
    upload = SimpleUploadedFile(name, image_bytes(image_format=image_format, mode=mode))

    image = images.product_image_add(product=draft_product(), upload=upload)

    assert opened(image.image).format == "JPEG"
    assert opened(image.image).mode == "RGB"


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("photo.jpg", b"MZ\x90\x00 not an image at all"), "not a real JPEG"),
        (SimpleUploadedFile("photo.png", image_bytes(image_format="JPEG")), "not a real PNG"),
        (SimpleUploadedFile("anim.gif", b"GIF89a" + b"\x00" * 64), "JPEG, PNG or WebP"),
        (SimpleUploadedFile("page.html", b"<html></html>"), "JPEG, PNG or WebP"),
        (SimpleUploadedFile("empty.jpg", b""), "empty"),
        (SimpleUploadedFile("cut.jpg", image_bytes()[:300]), "damaged"),
        (
            SimpleUploadedFile("huge.jpg", b"\xff\xd8\xff" + b"\x00" * (8 * 1024 * 1024)),
            "the limit is 8 MB",
        ),
    ],
    ids=["fake", "wrong-content", "gif", "html", "empty", "truncated", "too-big"],
)
def test_invalid_files_are_refused_and_nothing_is_stored(upload, message):
    product = draft_product()

    with pytest.raises(images.ImageRefused) as error:
        images.product_image_add(product=product, upload=upload)

    assert message in error.value.message
    assert not ProductImage.objects.exists()
    assert stored_files() == []


def test_a_decompression_bomb_is_refused_from_its_header():
    with pytest.raises(images.ImageRefused) as error:
        images.product_image_add(product=draft_product(), upload=bomb_png_upload())

    assert "too large" in error.value.message or "megapixels" in error.value.message
    assert not ProductImage.objects.exists()


def test_an_image_over_40_megapixels_is_refused():
    # Within Pillow's own limit, above ours.
    upload = bomb_png_upload(width=8000, height=6000)

    with pytest.raises(images.ImageRefused) as error:
        images.product_image_check(upload)

    assert "40 megapixels" in error.value.message


def test_a_product_has_at_most_nine_images():
    product = draft_product()
    for _ in range(images.MAX_IMAGES_PER_PRODUCT):
        images.product_image_add(product=product, upload=image_upload(size=(60, 60)))
    files_before = len(stored_files())

    with pytest.raises(images.ImageRefused) as error:
        images.product_image_add(product=product, upload=image_upload(size=(60, 60)))

    assert "at most 9" in error.value.message
    assert product.images.count() == images.MAX_IMAGES_PER_PRODUCT
    assert len(stored_files()) == files_before


def test_removing_an_image_deletes_its_files_and_closes_the_gap(
    django_capture_on_commit_callbacks,
):
    product = draft_product()
    first, second, third = (
        images.product_image_add(product=product, upload=image_upload(size=(60, 60)))
        for _ in range(3)
    )

    with django_capture_on_commit_callbacks(execute=True):
        images.product_image_remove(product=product, image_id=second.pk)

    assert list(product.images.values_list("pk", "position")) == [(first.pk, 0), (third.pk, 1)]
    assert not second.image.storage.exists(second.image.name)
    assert not second.thumbnail.storage.exists(second.thumbnail.name)


def test_images_are_reordered_and_the_first_is_the_main_one():
    product = draft_product()
    first, second, third = (
        images.product_image_add(product=product, upload=image_upload(size=(60, 60)))
        for _ in range(3)
    )

    images.product_images_reorder(product=product, image_ids=[third.pk, first.pk, second.pk])
    assert list(product.images.values_list("pk", flat=True)) == [third.pk, first.pk, second.pk]

    images.product_image_move(product=product, image_id=second.pk, offset=-1)
    assert list(product.images.values_list("pk", flat=True)) == [third.pk, second.pk, first.pk]


def test_a_reorder_that_does_not_name_every_image_once_is_refused():
    product = draft_product()
    first, second = (
        images.product_image_add(product=product, upload=image_upload(size=(60, 60)))
        for _ in range(2)
    )

    with pytest.raises(images.ImageRefused):
        images.product_images_reorder(product=product, image_ids=[first.pk, first.pk])

    assert list(product.images.values_list("pk", flat=True)) == [first.pk, second.pk]


def test_an_image_of_another_product_cannot_be_removed():
    product, other = draft_product(), draft_product()
    image = images.product_image_add(product=other, upload=image_upload(size=(60, 60)))

    with pytest.raises(images.ImageRefused):
        images.product_image_remove(product=product, image_id=image.pk)

    assert ProductImage.objects.filter(pk=image.pk).exists()


def mpo_upload() -> SimpleUploadedFile:
    """A phone-camera JPEG with a second frame (MPO), which Pillow reports as "MPO"."""
    first, second = Image.new("RGB", (120, 80), "red"), Image.new("RGB", (120, 80), "blue")
    buffer = io.BytesIO()
    first.save(buffer, format="MPO", save_all=True, append_images=[second])
    return SimpleUploadedFile("phone.jpg", buffer.getvalue(), content_type="image/jpeg")


def test_a_phone_photo_saved_as_mpo_is_accepted_as_a_jpeg(listing_seller):
    product = draft_product(seller=listing_seller)

    image = product_image_add(product=product, upload=mpo_upload())

    assert (image.width, image.height) == (120, 80)
    with Image.open(image.image.path) as stored:
        assert stored.format == "JPEG"
