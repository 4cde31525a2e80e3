"""A web page as a terminal shows it: headings, paragraphs, quotes, players and form fields
as readable lines (``hirebot demo`` prints the share page this way)."""

from __future__ import annotations

from html.parser import HTMLParser

_BLOCKS = frozenset({"p", "h1", "h2", "li", "legend", "section", "header", "form", "label"})
_SKIP = frozenset({"head", "title", "style", "script"})


def page_text(html: str) -> str:
    reader = _Reader()
    reader.feed(html)
    reader.close()
    lines = [" ".join(line.split()) for line in "".join(reader.out).splitlines()]
    kept: list[str] = []
    for line in lines:
        if line or (kept and kept[-1]):
            kept.append(line)
    return "\n".join(kept).strip()


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self._skipping = 0
        self._quote = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag in _SKIP:
            self._skipping += 1
        elif tag == "section":
            self.out.append("\n\n")
        elif tag in _BLOCKS:
            self.out.append("\n")
        if tag == "h1":
            self.out.append("# ")
        elif tag == "h2":
            self.out.append("## ")
        elif tag == "li":
            self.out.append("• ")
        elif tag == "blockquote":
            self._quote += 1
        elif tag == "p" and self._quote:
            self.out.append("> ")
        elif tag in ("audio", "video"):
            self.out.append(f"\n[▶ {tag} player: {found.get('src')}]")
            self._skipping += 1  # its fallback link says the same
        elif tag == "input" and found.get("type") == "radio":
            self.out.append(" ( ) ")
        elif tag == "textarea":
            self.out.append("\n[ ______________________________ ]")
        elif tag == "button":
            self.out.append("\n[ ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP or tag in ("audio", "video"):
            self._skipping -= 1
        elif tag == "blockquote":
            self._quote -= 1
        elif tag == "button":
            self.out.append(" ]")
        if tag in _BLOCKS:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.out.append(data)
