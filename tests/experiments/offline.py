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
    """Assert ``page`` loads nothing from the network (no scripts, links, remote src/href, CSS imports); return its tags."""
    parser = _Tags()
    parser.feed(page)
    assert not [t for t, _ in parser.tags if t in ("script", "link", "iframe", "object", "embed")]
    for tag, attrs in parser.tags:
        for key in ("src", "href", "srcset", "data", "poster"):
            value = attrs.get(key) or ""
            assert not re.match(r"\s*(https?:)?//", value), (
                f"<{tag} {key}={value[:60]}> fetches from the network"
            )
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", page), "CSS must not load anything"
    assert "@import" not in page and "@font-face" not in page
    return parser.tags
