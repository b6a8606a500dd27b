"""One translation mechanism for every UI string: zh-CN by default, English selectable.

Locale choice, in order: `?lang=` query, `lang` cookie, `Accept-Language`, zh-CN. Messages live in
api/locales/<locale>.json as flat dotted keys; `{name}` placeholders are filled with str.format.
Templates call the Jinja global `_("key", name=value)`, which reads `lang` from the template context.
"""
from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context

DEFAULT_LOCALE = "zh-CN"
LOCALES = ("zh-CN", "en")
LOCALE_DIR = Path(__file__).parent / "locales"
COOKIE = "lang"


@cache
def messages(locale: str) -> dict[str, str]:
    return json.loads((LOCALE_DIR / f"{locale}.json").read_text("utf-8"))


def normalize(value: str | None) -> str | None:
    """Map 'en', 'en-US', 'zh', 'zh-cn', 'zh-Hans' … to a supported locale, or None."""
    if not value:
        return None
    code = value.strip().lower().replace("_", "-")
    if code.startswith("zh"):
        return "zh-CN"
    if code.startswith("en"):
        return "en"
    return None


def from_accept_language(header: str | None) -> str | None:
    choices = []
    for index, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        locale = normalize(tag)
        if locale and weight > 0:
            choices.append((-weight, index, locale))
    return min(choices)[2] if choices else None


def negotiate(query: str | None, cookie: str | None, accept_language: str | None) -> str:
    return normalize(query) or normalize(cookie) or from_accept_language(accept_language) or DEFAULT_LOCALE


def translate(locale: str, key: str, **params: Any) -> str:
    """The message for `key` in `locale` (falls back to zh-CN, then to the key itself)."""
    text = messages(locale).get(key) or messages(DEFAULT_LOCALE).get(key) or key
    if params:
        try:
            return text.format(**params)
        except (KeyError, IndexError, ValueError):
            return text
    return text


@pass_context
def jinja_gettext(context: Context, key: str, **params: Any) -> str:
    return translate(context.get("lang") or DEFAULT_LOCALE, key, **params)
