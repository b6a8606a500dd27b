"""Where browser tests save screenshots: docs/screenshots/ only when HWF_SCREENSHOTS=1 (to refresh the
README images on purpose); otherwise a temporary folder, so a test run never dirties the repository."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"


def screenshot_dir() -> Path:
    if os.environ.get("HWF_SCREENSHOTS") == "1":
        return DOCS
    folder = Path(tempfile.gettempdir()) / "hwf-screenshots"
    folder.mkdir(exist_ok=True)
    return folder
