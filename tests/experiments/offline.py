"""Check that an HTML page makes no network request: shared by the report and validation page tests."""

from __future__ import annotations

import re
from html.parser import HTMLParser


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def assert_offline(page: str) -> list[tuple[str, dict[str, str | None]]]:
    """Assert ``page`` loads nothing from the network (no linked scripts, links, remote src/href, CSS imports).

    Inline scripts (the report's BokehJS, sorting and CSV code) are allowed; a script with ``src`` is not.
    The CSS checks read the page outside its scripts: BokehJS carries CSS for features the report does not
    use (e.g. an icon font it would load from a CDN), so what scripts fetch is checked in a real
    browser instead (tests/experiments/test_report.py, no request leaves the file). Returns the page's tags.
    """
    parser = _Tags()
    parser.feed(page)
    assert not [t for t, _ in parser.tags if t in ("link", "iframe", "object", "embed")]
    assert not [a for t, a in parser.tags if t == "script" and a.get("src") is not None], (
        "a script is fetched"
    )
    for tag, attrs in parser.tags:
        for key in ("src", "href", "srcset", "data", "poster"):
            value = attrs.get(key) or ""
            assert not re.match(r"\s*(https?:)?//", value), (
                f"<{tag} {key}={value[:60]}> fetches from the network"
            )
    outside_scripts = re.sub(r"<script\b[^>]*>.*?</script>", "", page, flags=re.DOTALL | re.IGNORECASE)
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", outside_scripts), "CSS must not load anything"
    assert "@import" not in outside_scripts and "@font-face" not in outside_scripts
    return parser.tags
