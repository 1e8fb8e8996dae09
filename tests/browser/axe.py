"""axe-core (vendored, no network) run in a page: the WCAG 2.0/2.1 A and AA findings."""

from pathlib import Path

from playwright.sync_api import Page

AXE = Path(__file__).resolve().parents[1] / "vendor" / "axe-core" / "axe.min.js"


def violations(page: Page, impacts: frozenset[str] | None = None) -> list[str]:
    """The page's findings as readable lines; ``impacts`` keeps only those (default: every impact)."""
    # Evaluated by the browser's debugging protocol, not as a <script> tag: the page's Content Security Policy
    # (no inline script) stays in force while axe-core reads it.
    page.evaluate(AXE.read_text(encoding="utf-8") + "\n;0")
    result = page.evaluate("""async () => await axe.run(document, {
        runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})""")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {len(v['nodes'])}× e.g. {v['nodes'][0]['target']}"
        for v in result["violations"]
        if impacts is None or v["impact"] in impacts
    ]
