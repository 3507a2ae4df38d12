"""Accessibility checks with axe-core inside a real page: ``assert_accessible(page)``.

axe-core comes from the npm registry (``scripts/install-axe.sh`` puts a pinned version in
``.cache/axe``). Without it the check is skipped with the reason, except where CI requires
the browser suite (``ARXIV_DIGEST_REQUIRE_BROWSER``): there a missing axe fails the test.

axe is evaluated through Playwright's ``page.evaluate`` (the DevTools protocol), not added
as a ``<script>`` tag: the service's Content-Security-Policy forbids inline scripts, and a
check that needed the policy switched off would no longer look at the page as served.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

import pytest

AXE_JS = Path(__file__).resolve().parents[1] / ".cache/axe/node_modules/axe-core/axe.min.js"
FAILING_IMPACTS = ("serious", "critical")


@cache
def _axe_source() -> str | None:
    return AXE_JS.read_text(encoding="utf-8") if AXE_JS.is_file() else None


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Every axe violation on the page as it is now (all impacts)."""
    source = _axe_source()
    if source is None:
        reason = f"axe-core not installed at {AXE_JS}: run scripts/install-axe.sh"
        if os.environ.get("ARXIV_DIGEST_REQUIRE_BROWSER"):
            pytest.fail(reason)
        pytest.skip(reason)
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(source)
    results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return list(results["violations"])


def describe(violations: list[dict[str, Any]]) -> str:
    """One readable block per violation: rule, impact, what it means, where (three at most)."""
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"][:3]:
            lines.append(f"    at {' '.join(map(str, node['target']))}: {node['html'][:160]}")
        if len(violation["nodes"]) > 3:
            lines.append(f"    and {len(violation['nodes']) - 3} more")
    return "\n".join(lines)


def assert_accessible(page: Any, label: str = "") -> None:
    """Fail on any serious or critical axe-core violation, listing each one."""
    failing = [v for v in axe_violations(page) if v["impact"] in FAILING_IMPACTS]
    where = label or page.url
    assert not failing, f"accessibility violations on {where}:\n{describe(failing)}"
