"""Pictures keep their pixels and nothing else (425.4.1(a)): no EXIF, XMP, IPTC, comment or text.

A phone or camera file can name its owner, carry GPS and serial numbers; a planted name must
be found nowhere once the upload is stored: not in the stored file, not in any table.
"""

from __future__ import annotations

import io

import pytest
from PIL import Image, PngImagePlugin
from sqlalchemy import MetaData, select

from app.reads.images import clean_image, image_path
from tests.helpers import device_with_token, upload_fields, upload_image

NAME = "Jane Quincy Doe"
XMP = f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><dc:creator>{NAME}</dc:creator></x:xmpmeta>'


def _scene(size=(320, 120)) -> Image.Image:
    picture = Image.new("RGB", size, (240, 240, 240))
    picture.paste((20, 20, 20), (40, 30, 120, 90))
    return picture


def _exif(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[0x013B] = NAME  # Artist
    exif[0x8298] = f"(c) {NAME}"  # Copyright
    exif[0x0112] = orientation
    return exif


def jpeg_with_everything(orientation: int = 1) -> bytes:
    out = io.BytesIO()
    _scene().save(
        out,
        format="JPEG",
        exif=_exif(orientation),
        comment=f"shot by {NAME}".encode(),
        xmp=XMP.encode(),
        icc_profile=f"profile of {NAME}".encode().ljust(128, b"\0"),
    )
    return out.getvalue()


def png_with_everything() -> bytes:
    text = PngImagePlugin.PngInfo()
    text.add_text("Author", NAME)
    text.add_itxt("Description", f"taken by {NAME}", lang="en")
    text.add_text("Comment", NAME, zip=True)
    out = io.BytesIO()
    _scene().save(out, format="PNG", pnginfo=text, exif=_exif())
    return out.getvalue()


def webp_with_everything() -> bytes:
    out = io.BytesIO()
    _scene().save(out, format="WEBP", exif=_exif(), xmp=XMP.encode())
    return out.getvalue()


SAMPLES = {"jpeg": jpeg_with_everything, "png": png_with_everything, "webp": webp_with_everything}


@pytest.mark.parametrize("kind", SAMPLES)
def test_the_sample_really_carries_the_name(kind):
    assert NAME.encode() in SAMPLES[kind]() or NAME.encode() in _inflated(SAMPLES[kind]())


def _inflated(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as picture:
        return repr(picture.info).encode()


@pytest.mark.parametrize("kind", SAMPLES)
def test_clean_image_keeps_the_pixels_and_no_metadata(kind):
    clean = clean_image(SAMPLES[kind](), max_bytes=5_000_000)
    assert NAME.encode() not in clean.data
    with Image.open(io.BytesIO(clean.data)) as stored:
        assert stored.getexif() == {}
        assert not {"exif", "xmp", "icc_profile", "comment", "Author", "Description"} & set(
            stored.info
        ), stored.info
        assert stored.size == (320, 120)
        assert stored.convert("RGB").getpixel((60, 50))[0] < 60  # the dark box is still there


def test_the_same_upload_is_the_same_stored_picture():
    first = clean_image(jpeg_with_everything(), max_bytes=5_000_000)
    again = clean_image(jpeg_with_everything(), max_bytes=5_000_000)
    assert first.info.sha256 == again.info.sha256


def test_a_rotated_phone_picture_is_stored_upright():
    clean = clean_image(jpeg_with_everything(orientation=6), max_bytes=5_000_000)
    assert (clean.info.width, clean.info.height) == (120, 320)


@pytest.mark.parametrize("kind", SAMPLES)
def test_a_name_in_an_uploads_metadata_is_found_nowhere(client, session, app, kind):
    _, token = device_with_token(session)
    suffix = {"jpeg": "jpg", "png": "png", "webp": "webp"}[kind]
    response = upload_image(
        client,
        token,
        upload_fields(plate="ABC123"),
        {"vehicle": (SAMPLES[kind](), f"car.{suffix}")},
    )
    assert response.status_code == 201, response.get_json()
    sha = response.get_json()["images"][0]["sha256"]
    with app.app_context():
        assert NAME.encode() not in image_path(sha).read_bytes()
    session.rollback()
    tables = MetaData()
    tables.reflect(bind=session.connection())
    for table in tables.sorted_tables:
        for row in session.execute(select(table)):
            assert NAME not in repr(tuple(row)), table.name
