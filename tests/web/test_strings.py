"""Every string a person reads is in one catalogue, ready for translation (gettext/Babel)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "services/web/weft_web/locale/messages.pot"


def test_the_committed_catalogue_has_every_string(tmp_path: Path) -> None:
    fresh = tmp_path / "messages.pot"
    subprocess.run(
        [Path(sys.executable).parent / "pybabel", "extract", "-F", "babel.cfg", "--no-location", "--sort-output",
         "--omit-header", "-o", str(fresh), "."],
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    assert fresh.read_text() == CATALOGUE.read_text(), "the string catalogue is stale: run `make strings`"
    assert fresh.read_text().count("msgid ") > 40
