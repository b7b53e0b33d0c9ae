"""Product images: validated, re-encoded, resized, stored under server-generated names.

An upload is accepted only when its name, its first bytes and what Pillow decodes agree on JPEG,
PNG or WebP, it is at most 8 MB and 40 megapixels (a decompression bomb is refused from its
header, before a pixel is decoded), and it decodes completely. What is stored is never the
uploaded file: every image is re-encoded as a JPEG, which drops EXIF (GPS position, camera serial)
and anything smuggled after the image data, at most 1600 px on its longer side, with a 400 px
thumbnail beside it. Images are public media (MEDIA_ROOT), served by URL.
"""

import io
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Count, Max
from PIL import Image, ImageOps

from catalog.models import Product, ProductImage
from marketplace.errors import DomainError
from marketplace.pagecache import storefront_changed

MAX_IMAGE_BYTES = 8 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000
MAX_IMAGES_PER_PRODUCT = 9
LARGE_SIDE_PX = 1600
THUMBNAIL_SIDE_PX = 400
JPEG_QUALITY = 85

EXTENSIONS = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".webp": "WEBP"}


def _detect(head: bytes) -> str | None:
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    return None


class ImageRefused(DomainError):
    code = "image_refused"


@dataclass(frozen=True)
class ProcessedImage:
    large: bytes
    thumbnail: bytes
    width: int
    height: int


def _pillow_format(image: Image.Image) -> str:
    # Many phone cameras write MPO: a JPEG carrying extra frames (depth, a preview) that Pillow
    # names "MPO". The first frame is an ordinary JPEG, and only it is decoded and re-encoded.
    return "JPEG" if image.format == "MPO" else image.format


def product_image_check(upload) -> str:
    """Raise ImageRefused, with a message for people, unless `upload` is a genuine JPEG, PNG or
    WebP within the limits. Returns the format. Reads the file; leaves it rewound."""
    name = getattr(upload, "name", "") or ""
    expected = EXTENSIONS.get(Path(name).suffix.lower())
    if expected is None:
        raise ImageRefused("Upload a JPEG, PNG or WebP image (.jpg, .jpeg, .png or .webp).")
    size = getattr(upload, "size", None) or 0
    if size == 0:
        raise ImageRefused("The image file is empty.")
    if size > MAX_IMAGE_BYTES:
        raise ImageRefused(
            f"The image is {size / 1_048_576:.1f} MB; the limit is "
            f"{MAX_IMAGE_BYTES // 1_048_576} MB."
        )
    upload.seek(0)
    detected = _detect(upload.read(16))
    upload.seek(0)
    if detected is None or detected != expected:
        raise ImageRefused(
            f"{Path(name).name or 'This file'} is not a real {expected} image: its contents do "
            "not match its name. Export the photo again as JPEG, PNG or WebP."
        )
    try:
        with warnings.catch_warnings():
            # Pillow only warns between its own limit and twice it; treat that as the bomb it is.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            # Only the decoder the name and signature agree on: Pillow must not fall back to
            # another format.
            with Image.open(upload, formats=[expected]) as image:
                if _pillow_format(image) != expected:
                    raise ImageRefused(f"This file is not a real {expected} image.")
                # The header gives the size: refuse a bomb before decoding a pixel.
                width, height = image.size
                if width * height > MAX_IMAGE_PIXELS:
                    raise ImageRefused(
                        f"The image is {width}x{height} pixels; the limit is "
                        f"{MAX_IMAGE_PIXELS // 1_000_000} megapixels."
                    )
                image.verify()
    except ImageRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRefused("The image is too large to process. Upload a smaller one.") from None
    except Exception:
        raise ImageRefused(
            "The image is damaged or incomplete and cannot be read. Upload it again."
        ) from None
    finally:
        upload.seek(0)
    return expected


def _encode_jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    # No exif= argument: nothing of the original metadata is written.
    image.save(buffer, format="JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    return buffer.getvalue()


def product_image_process(upload) -> ProcessedImage:
    """Check, then decode and re-encode: upright (EXIF orientation applied before the EXIF is
    dropped), RGB on white (transparency flattened), at most 1600 px, plus a 400 px thumbnail."""
    expected = product_image_check(upload)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(upload, formats=[expected]) as opened:
                opened.load()
                image = ImageOps.exif_transpose(opened)
    except Exception:
        raise ImageRefused(
            "The image is damaged or incomplete and cannot be read. Upload it again."
        ) from None
    finally:
        upload.seek(0)
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        image = flat
    elif image.mode != "RGB":
        image = image.convert("RGB")
    large = image.copy()
    large.thumbnail((LARGE_SIDE_PX, LARGE_SIDE_PX), Image.Resampling.LANCZOS)
    small = large.copy()
    small.thumbnail((THUMBNAIL_SIDE_PX, THUMBNAIL_SIDE_PX), Image.Resampling.LANCZOS)
    return ProcessedImage(
        large=_encode_jpeg(large),
        thumbnail=_encode_jpeg(small),
        width=large.width,
        height=large.height,
    )


def _store(*, product: Product, processed: ProcessedImage, position: int, alt_text: str):
    # Server-generated names: nothing of the uploader's file name reaches the disk or the URL.
    stem = uuid.uuid4().hex
    image = ProductImage(product=product, position=position, alt_text=alt_text[:200])
    image.image.save(f"{stem}.jpg", ContentFile(processed.large), save=False)
    image.thumbnail.save(f"{stem}.jpg", ContentFile(processed.thumbnail), save=False)
    # Set last: assigning the file re-reads its dimensions from the (already consumed) content.
    image.width, image.height = processed.width, processed.height
    return image


def _delete_files(image: ProductImage) -> None:
    for field in (image.image, image.thumbnail):
        if field and field.name:
            field.storage.delete(field.name)


def product_image_add(*, product: Product, upload, actor=None, alt_text: str = "") -> ProductImage:
    """Validate, re-encode and store an image as the product's last one. Raises ImageRefused
    (nothing stored) for an invalid file or when the product already has the maximum."""
    # Decoding and encoding take a while: done before the lock, which only guards the count.
    processed = product_image_process(upload)
    stored = None
    try:
        with transaction.atomic():
            Product.objects.select_for_update().filter(pk=product.pk).first()
            current = ProductImage.objects.filter(product=product).aggregate(
                count=Count("id"), top=Max("position")
            )
            if current["count"] >= MAX_IMAGES_PER_PRODUCT:
                raise ImageRefused(
                    f"A product can have at most {MAX_IMAGES_PER_PRODUCT} images; remove one first."
                )
            position = 0 if current["top"] is None else current["top"] + 1
            stored = _store(
                product=product,
                processed=processed,
                position=position,
                alt_text=alt_text or product.title,
            )
            stored.save()
            storefront_changed()
    except Exception:
        # No row, no files: an image nobody can see or remove would never be cleaned up.
        if stored is not None:
            _delete_files(stored)
        raise
    return stored


def product_image_remove(*, product: Product, image_id: int, actor=None) -> None:
    """Remove one of the product's images (its files go once committed) and close the gap in the
    order. Raises ImageRefused for an image of another product."""
    with transaction.atomic():
        Product.objects.select_for_update().filter(pk=product.pk).first()
        image = ProductImage.objects.filter(pk=image_id, product=product).first()
        if image is None:
            raise ImageRefused("No such image.", code="not_found")
        image.delete()
        _renumber(product=product)
        storefront_changed()
        transaction.on_commit(lambda: _delete_files(image))


def _renumber(*, product: Product, ordered_ids: list[int] | None = None) -> None:
    images = list(ProductImage.objects.filter(product=product).order_by("position", "id"))
    if ordered_ids is not None:
        by_id = {image.pk: image for image in images}
        images = [by_id[image_id] for image_id in ordered_ids]
    changed = []
    for position, image in enumerate(images):
        if image.position != position:
            image.position = position
            changed.append(image)
    ProductImage.objects.bulk_update(changed, ["position"])


def product_images_reorder(*, product: Product, image_ids: list[int], actor=None) -> None:
    """Put the product's images in the order of `image_ids`, which must name each of them once.
    The first is the main image. Raises ImageRefused otherwise (nothing changed)."""
    with transaction.atomic():
        Product.objects.select_for_update().filter(pk=product.pk).first()
        current = set(ProductImage.objects.filter(product=product).values_list("pk", flat=True))
        if len(image_ids) != len(set(image_ids)) or set(image_ids) != current:
            raise ImageRefused("The images changed meanwhile; reload the page and try again.")
        _renumber(product=product, ordered_ids=list(image_ids))
        storefront_changed()


def product_image_move(*, product: Product, image_id: int, offset: int, actor=None) -> None:
    """Move one image `offset` places (-1 earlier, +1 later); a no-op at either end."""
    ids = list(
        ProductImage.objects.filter(product=product)
        .order_by("position", "id")
        .values_list("pk", flat=True)
    )
    if image_id not in ids:
        raise ImageRefused("No such image.", code="not_found")
    index = ids.index(image_id)
    target = max(0, min(len(ids) - 1, index + offset))
    ids.insert(target, ids.pop(index))
    product_images_reorder(product=product, image_ids=ids, actor=actor)


def product_images_copy(*, source: Product, target: Product) -> list[ProductImage]:
    """Copy the source's stored images (already checked and re-encoded) to `target`, under new
    names, so removing one product's image never removes the other's file."""
    copies = []
    for original in ProductImage.objects.filter(product=source).order_by("position", "id"):
        stem = uuid.uuid4().hex
        copy = ProductImage(product=target, position=original.position, alt_text=original.alt_text)
        with original.image.open("rb") as handle:
            copy.image.save(f"{stem}.jpg", ContentFile(handle.read()), save=False)
        if original.thumbnail:
            with original.thumbnail.open("rb") as handle:
                copy.thumbnail.save(f"{stem}.jpg", ContentFile(handle.read()), save=False)
        copy.width, copy.height = original.width, original.height
        copy.save()
        copies.append(copy)
    return copies
