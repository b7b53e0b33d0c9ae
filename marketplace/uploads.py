"""Validation and private storage of uploaded documents (KYC papers, qualifications, proofs).

A document is accepted only when its extension, its declared type and its actual bytes agree on one
of PDF, JPEG or PNG, it is within the size limit, and (for images) it decodes completely to a sane
number of pixels: a renamed executable, an HTML file called .pdf, a truncated photo or a
decompression bomb is refused with a clear message. Polyglots are refused too: a file that is
also a web page (script or HTML markup anywhere in it), or an image with another file glued
after its end marker (a PNG with anything after IEND, a JPEG followed by an archive or a
program). Staff open these files on their own machines, so what is stored must be only the document.

Accepted files are stored under a server-generated name in a folder outside MEDIA_ROOT's public
URL space, so they are only ever served by views that check permission (`private_file_response`).
"""

import hashlib
import os
import re
import unicodedata
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core import checks
from django.core.exceptions import ValidationError
from django.core.files.storage import FileSystemStorage
from django.db import transaction
from django.http import FileResponse, Http404
from django.utils.deconstruct import deconstructible
from PIL import Image

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
# 40 megapixels is more than any phone photo of a passport; a bomb claims far more.
MAX_IMAGE_PIXELS = 40_000_000

# Magic numbers: what the first bytes of each accepted kind must be.
SIGNATURES = {
    "pdf": (b"%PDF-",),
    "jpeg": (b"\xff\xd8\xff",),
    "png": (b"\x89PNG\r\n\x1a\n",),
}
EXTENSIONS = {".pdf": "pdf", ".jpg": "jpeg", ".jpeg": "jpeg", ".png": "png"}
CONTENT_TYPES = {"pdf": "application/pdf", "jpeg": "image/jpeg", "png": "image/png"}
PIL_FORMATS = {"jpeg": "JPEG", "png": "PNG"}

# Web page code has no place in a scan or a photo. The tokens are long enough (5+ bytes) that
# compressed image or PDF data contains one by chance with negligible odds, so a match means the
# file was built to be read as a page as well (an HTML/PDF or HTML/JPEG polyglot).
ACTIVE_MARKUP = re.compile(rb"<script|<html[\s>]|<!doctype\s+html|<iframe|<\?php", re.IGNORECASE)
# Other formats that must not ride along after a JPEG's end marker. Phones do append data there
# (Samsung trailers, motion-photo video), so a JPEG trailer is allowed unless it carries one of these.
FOREIGN_SIGNATURES = (b"PK\x03\x04", b"%PDF-", b"\x7fELF", b"Rar!\x1a\x07", b"7z\xbc\xaf\x27\x1c")
# Padding that some encoders leave after an image's end; anything else there is another file.
PADDING = b"\x00 \t\r\n"
MAX_DISPLAY_NAME_LENGTH = 255


@dataclass(frozen=True)
class CheckedDocument:
    kind: str  # pdf, jpeg or png
    content_type: str
    extension: str
    size: int
    sha256: str


def check_document(upload) -> CheckedDocument:
    """Raise ValidationError with a message for people unless `upload` is a genuine PDF/JPEG/PNG."""
    name = getattr(upload, "name", "") or ""
    extension = Path(name).suffix.lower()
    if extension not in EXTENSIONS:
        raise ValidationError(
            "Upload a PDF, JPEG or PNG file (the file name must end in .pdf, .jpg, .jpeg or .png).",
            code="file_type",
        )
    if upload.size == 0:
        raise ValidationError("The file is empty.", code="empty")
    if upload.size > MAX_DOCUMENT_BYTES:
        raise ValidationError(
            f"The file is {upload.size / 1_048_576:.1f} MB; the limit is "
            f"{MAX_DOCUMENT_BYTES // 1_048_576} MB.",
            code="file_size",
        )

    upload.seek(0)
    head = upload.read(16)
    detected = next(
        (kind for kind, magics in SIGNATURES.items() if any(head.startswith(m) for m in magics)),
        None,
    )
    expected = EXTENSIONS[extension]
    if detected is None or detected != expected:
        raise ValidationError(
            f"This file is not a real {expected.upper()} file: its contents do not match its "
            f"{extension} name. Export or scan the document again and upload that file.",
            code="file_content",
        )

    # At most MAX_DOCUMENT_BYTES, checked above, so reading it whole is bounded.
    upload.seek(0)
    data = upload.read()
    if ACTIVE_MARKUP.search(data):
        raise ValidationError(
            "This file contains web page code or scripts, which a scan or photo of a document "
            "never does. Scan or export the document again and upload that file.",
            code="file_active_content",
        )
    if detected in {"jpeg", "png"}:
        _check_image(upload, detected)
        _check_image_ends(data, detected)
    else:
        _check_pdf(upload)

    digest = hashlib.sha256(data)
    upload.seek(0)
    return CheckedDocument(
        kind=detected,
        content_type=CONTENT_TYPES[detected],
        extension=".jpg" if detected == "jpeg" else f".{detected}",
        size=upload.size,
        sha256=digest.hexdigest(),
    )


def _check_image(upload, kind: str) -> None:
    upload.seek(0)
    try:
        # Only the decoder the signature named: Pillow must not fall back to another format.
        with Image.open(upload, formats=[PIL_FORMATS[kind]]) as image:
            # The header is read first: refuse a bomb before decoding a single pixel.
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise ValidationError(
                    f"The image is {width}x{height} pixels; the limit is "
                    f"{MAX_IMAGE_PIXELS // 1_000_000} megapixels. Upload a smaller scan.",
                    code="image_too_large",
                )
            if kind == "jpeg":
                # verify() does nothing for JPEG, so a cut-off photo would pass: decode it all.
                # Draft mode decodes at 1/8 scale, which still reads every byte of the data.
                image.draft("RGB", (max(1, width // 8), max(1, height // 8)))
                image.load()
            else:
                # Checks every chunk's CRC up to IEND, so a truncated PNG fails here.
                image.verify()
    except ValidationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError(
            "The image is too large to process. Upload a smaller scan.", code="image_too_large"
        ) from None
    except Exception:
        raise ValidationError(
            "The image is damaged or incomplete and cannot be read. Upload it again.",
            code="image_corrupt",
        ) from None


def _check_image_ends(data: bytes, kind: str) -> None:
    """Refuse an image with another file glued after its end marker (see module docstring)."""
    end = _png_end(data) if kind == "png" else _jpeg_end(data)
    if end is None:
        raise ValidationError(
            "The image is damaged or incomplete and cannot be read. Upload it again.",
            code="image_corrupt",
        )
    trailer = data[end:]
    if kind == "png":
        foreign = bool(trailer.strip(PADDING))
    else:
        foreign = trailer.startswith(b"MZ") or any(sig in trailer for sig in FOREIGN_SIGNATURES)
    if foreign:
        raise ValidationError(
            "The image has another file attached after its end. Save or export the picture "
            "again (a fresh photo or screenshot works) and upload that file.",
            code="image_trailing_data",
        )


def _png_end(data: bytes) -> int | None:
    """The offset just past the IEND chunk, or None when the chunk list is broken."""
    position = 8  # the signature
    while position + 12 <= len(data):
        length = int.from_bytes(data[position : position + 4], "big")
        kind = data[position + 4 : position + 8]
        position += 12 + length  # length, type, data, CRC
        if kind == b"IEND":
            return position if position <= len(data) else None
    return None


def _jpeg_end(data: bytes) -> int | None:
    """The offset just past the EOI marker, or None when the marker structure is broken.

    Walks the segments; after each start-of-scan it skips the entropy-coded data, where 0xFF is
    followed only by 0x00 (a stuffed byte) or a restart marker.
    """
    position, size = 2, len(data)  # after SOI
    while position < size:
        if data[position] != 0xFF:
            return None
        while position < size and data[position] == 0xFF:
            position += 1  # fill bytes
        if position >= size:
            return None
        marker = data[position]
        position += 1
        if marker == 0xD9:  # EOI
            return position
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:
            continue  # markers without a length
        if position + 2 > size:
            return None
        position += int.from_bytes(data[position : position + 2], "big")
        if marker == 0xDA:  # SOS: entropy-coded data up to the next real marker
            while True:
                position = data.find(b"\xff", position)
                if position < 0 or position + 1 >= size:
                    return None
                following = data[position + 1]
                if following == 0x00 or 0xD0 <= following <= 0xD7:
                    position += 2
                    continue
                break
    return None


def _check_pdf(upload) -> None:
    # A PDF ends with an %%EOF marker (within the last kilobyte, allowing trailing whitespace).
    upload.seek(max(0, upload.size - 1024))
    tail = upload.read()
    if b"%%EOF" not in tail:
        raise ValidationError(
            "The PDF is damaged or incomplete (no end-of-file marker). Upload it again.",
            code="pdf_corrupt",
        )


def private_upload_path(folder: str, extension: str) -> str:
    """A server-generated name: nothing of the uploader's file name reaches the disk."""
    return f"{folder}/{uuid.uuid4().hex}{extension}"


@contextmanager
def stored_private_file(content, *, folder: str, extension: str) -> Iterator[str]:
    """Store `content` privately under a server-generated name in `folder` and run the block that
    records it in the database, in a transaction: `with stored_private_file(...) as name:` stands
    where the service's `with transaction.atomic():` would.

    No row, no file: when the block raises, or its transaction fails to commit, the file is
    deleted and the error goes on (an orphaned document would never be reviewed nor deleted). The
    one place that pairs a private file with its row; every service that stores one uses it.
    Called inside a caller's transaction, the block is a savepoint and a later rollback of the
    caller's transaction is the caller's to clean up.
    """
    stored_name = private_storage.save(private_upload_path(folder, extension), content)
    try:
        with transaction.atomic():
            yield stored_name
    except BaseException:
        private_storage.delete(stored_name)
        raise


def display_file_name(name: str | None, *, default: str = "document") -> str:
    """The uploader's file name, made safe to show and to offer as a download name.

    Only the last part of a path (either separator) is kept; control and bidirectional-override
    characters are dropped, so "passport\u202egnp.pdf" cannot pose as "passportfdp.png" on a
    reviewer's screen; the result is NFC-normalized and fits the model fields (255 characters,
    keeping the extension).
    """
    base = re.split(r"[\\/]", name or "")[-1]
    base = unicodedata.normalize("NFC", base)
    base = "".join(char for char in base if unicodedata.category(char) not in {"Cc", "Cf"})
    base = " ".join(base.split()).strip(". ")
    if not base:
        return default
    if len(base) > MAX_DISPLAY_NAME_LENGTH:
        stem, extension = os.path.splitext(base)
        extension = extension[:16]
        base = stem[: MAX_DISPLAY_NAME_LENGTH - len(extension)] + extension
    return base


def private_file_response(file, *, filename: str, content_type: str) -> FileResponse:
    """A private document as a download: never rendered inline, never sniffed, never cached, and
    sandboxed should a browser open it anyway."""
    response = FileResponse(file, as_attachment=True, filename=filename, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


@deconstructible
class PrivateStorage(FileSystemStorage):
    """Files that have no URL: KYC documents, qualifications, proofs of rights.

    The folder is read from settings.PRIVATE_MEDIA_ROOT on every use, so tests can point it at a
    temporary folder. Views that serve these files check permission and stream them themselves.
    """

    @property
    def base_location(self):
        return str(settings.PRIVATE_MEDIA_ROOT)

    @property
    def location(self):
        return os.path.abspath(self.base_location)

    def url(self, name):
        raise ValueError("Private files have no public URL; serve them through a permission check.")


private_storage = PrivateStorage()


@checks.register(checks.Tags.security)
def check_private_media_root_is_not_public(app_configs=None, **kwargs):
    """PRIVATE_MEDIA_ROOT inside MEDIA_ROOT or STATIC_ROOT would put identity documents at a URL."""
    private = Path(settings.PRIVATE_MEDIA_ROOT).resolve()
    errors = []
    for setting in ("MEDIA_ROOT", "STATIC_ROOT"):
        public = getattr(settings, setting, None)
        if not public:
            continue
        public = Path(public).resolve()
        if private == public or private.is_relative_to(public):
            errors.append(
                checks.Error(
                    f"PRIVATE_MEDIA_ROOT ({private}) overlaps {setting} ({public}), which is "
                    "served by URL.",
                    hint="Point PRIVATE_MEDIA_ROOT at a folder outside every public one.",
                    id="marketplace.E101",
                )
            )
    return errors


def private_document_response(*, stored_name: str, filename: str) -> FileResponse:
    """Stream a stored private document as a download the browser will not try to render; 404
    when it is missing or of a kind we never store."""
    kind = EXTENSIONS.get(Path(stored_name).suffix.lower())
    if kind is None or not private_storage.exists(stored_name):
        raise Http404("No such document.")
    # An attachment, never sniffed or cached, sandboxed if opened anyway (an HTML/PDF polyglot
    # that got past the checks must not run on our origin).
    return private_file_response(
        private_storage.open(stored_name, "rb"),
        filename=display_file_name(filename, default=Path(stored_name).name),
        content_type=CONTENT_TYPES[kind],
    )
