"""axe-core on a page in the browser: no serious or critical violation.

Serious and critical impacts fail a page (WCAG 2.2 AA rules among them); minor and
moderate findings are left to review.
"""

from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

BLOCKING = ("serious", "critical")

_axe = Axe()


def blocking_violations(page: Page) -> list[str]:
    """Serious and critical violations, one line each: the rule, its help and the nodes."""
    results = _axe.run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + "; ".join(
            " ".join(node["target"]) if isinstance(node["target"], list) else str(node["target"])
            for node in v["nodes"][:5]
        )
        for v in results.response["violations"]
        if v["impact"] in BLOCKING
    ]


def assert_accessible(page: Page) -> None:
    violations = blocking_violations(page)
    assert violations == [], f"{page.url}:\n" + "\n".join(violations)
