"""Every setting an operator can set is written down: a STARLING_* variable that no page names is one
nobody can use on purpose. A family documented as a whole (`STARLING_RATELIMIT_*`, with its table in
docs/safety.md) covers its members."""

from __future__ import annotations

import re

from starling.config import Settings
from tests.live import REPO


def test_every_setting_is_in_the_readme_or_docs():
    text = (REPO / "README.md").read_text() + "".join(p.read_text() for p in sorted((REPO / "docs").glob("*.md")))
    families = set(re.findall(r"STARLING_([A-Z0-9_]+?)_\*", text))
    missing = [f"STARLING_{name.upper()}" for name in Settings.model_fields
               if f"STARLING_{name.upper()}" not in text
               and not any(name.upper().startswith(family + "_") for family in families)]
    assert not missing, f"settings no page documents: {missing} (docs/operations.md has the table)"
