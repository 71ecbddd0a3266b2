"""axe-core in the browser: inject the vendored copy into a page and fail on any violation.

The copy is ``vendor/axe-core-<AXE_VERSION>.min.js``; its SHA-256 is checked against the
file beside it before each use, so an edited or truncated copy fails loudly.
The app's Content-Security-Policy blocks the inline script Playwright adds, so the page's
context needs ``bypass_csp=True`` (see ``browser_context_args`` in test_accessibility.py).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

AXE_VERSION = "4.14.1"
VENDOR = Path(__file__).with_name("vendor")
AXE_SCRIPT = VENDOR / f"axe-core-{AXE_VERSION}.min.js"
AXE_CHECKSUM = VENDOR / f"axe-core-{AXE_VERSION}.min.js.sha256"


def _verified_script() -> Path:
    """The vendored axe-core, after checking it against its recorded SHA-256."""
    expected = AXE_CHECKSUM.read_text().split()[0]
    actual = hashlib.sha256(AXE_SCRIPT.read_bytes()).hexdigest()
    if actual != expected:
        raise AssertionError(f"{AXE_SCRIPT.name} does not match {AXE_CHECKSUM.name}")
    return AXE_SCRIPT


def _describe(violation: dict[str, Any]) -> str:
    targets = "; ".join(" ".join(node["target"]) for node in violation["nodes"][:5])
    return f"{violation['id']} ({violation['impact']}): {violation['help']} -> {targets}"


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations on ``page`` as it is now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(_verified_script()))
    return page.evaluate("async () => (await axe.run(document)).violations")


def assert_no_violations(page: Page) -> None:
    """Fail with one line per rule when axe-core finds any violation on ``page``."""
    violations = axe_violations(page)
    assert not violations, "axe-core violations:\n" + "\n".join(map(_describe, violations))
