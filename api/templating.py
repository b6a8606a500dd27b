"""The one Jinja2 environment of the staff pages: autoescape on, `_()` translation, date filters."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape

from api.i18n import jinja_gettext

TEMPLATE_DIR = Path(__file__).parent / "templates"
# Staff read times on the hospital's wall clock (China Standard Time, no DST).
LOCAL_TZ = timezone(timedelta(hours=8), "CST")


def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(LOCAL_TZ).strftime(fmt)


def capped(value: int, cap: int = 1000) -> str:
    """Counts come back capped by the engine (inbox_queries.COUNT_CAP): 1000 means "1000 or more"."""
    return f"{cap}+" if value >= cap else str(value)


def _environment() -> Environment:
    autoescape = select_autoescape(["html", "xml"], default_for_string=True, default=True)
    env = Environment(loader=FileSystemLoader(TEMPLATE_DIR), autoescape=autoescape, trim_blocks=True,
                      lstrip_blocks=True)
    env.globals["_"] = jinja_gettext
    env.filters["localtime"] = local_time
    env.filters["capped"] = capped
    return env


templates = Jinja2Templates(env=_environment())
