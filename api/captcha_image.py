"""Draw a captcha challenge as a PNG (the `captcha` library: warped glyphs over noise)."""
from __future__ import annotations

from captcha.image import ImageCaptcha

_IMAGE = ImageCaptcha(width=160, height=60)


def render_captcha(text: str) -> bytes:
    return _IMAGE.generate(text).getvalue()
