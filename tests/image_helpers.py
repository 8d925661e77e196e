"""Pictures and devices for the image, OCR and review tests, made on the spot with Pillow."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy.orm import Session

from app.alpr.devices import create_device
from app.reads.models import Device

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"


def plate_picture(
    text: str = "ABC1234", fmt: str = "PNG", size: tuple[int, int] = (520, 260)
) -> bytes:
    """A clean plate crop: dark characters on a white plate with a border."""
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((6, 6, size[0] - 7, size[1] - 7), outline="black", width=6)
    font = ImageFont.truetype(FONT, int(size[1] * 0.34))
    box = draw.textbbox((0, 0), text, font=font)
    x = (size[0] - (box[2] - box[0])) // 2 - box[0]
    y = (size[1] - (box[3] - box[1])) // 2 - box[1]
    draw.text((x, y), text, fill="black", font=font)
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def blank_picture(
    fmt: str = "PNG", size: tuple[int, int] = (320, 160), color: str = "gray"
) -> bytes:
    """A picture with nothing on it to read."""
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, fmt)
    return buffer.getvalue()


def device_with_token(session: Session, serial: str = "CAM-TEST-1") -> tuple[Device, str]:
    """A device made the way the CLI makes one; returns it with its bearer token."""
    device, token = create_device(session, "test", serial=serial, kind="mobile")
    session.commit()
    return device, token
