"""Text a person typed, made safe for the surface it lands on: Slack mrkdwn or a CSV cell.

hirebot stores what people typed as plain text (names, answers, transcripts, notes, reasons,
titles). The team-facing strings flows compose are Slack mrkdwn, where ``<…>`` is markup:
``<!channel>`` pings a whole channel, ``<@U123>`` mentions someone and
``<http://evil|Open the CV>`` disguises a link. So every plain value is passed through
``mrkdwn()`` where it is put into such a string, and only there; hirebot's own markup
(``*bold*``, ``<@{user id}>`` of the person who acted) is written around it.
"""

from __future__ import annotations

# Slack's own escaping: these three, and only these, are control characters in mrkdwn.
_MRKDWN = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def mrkdwn(text: str) -> str:
    """``text`` as it must appear inside a Slack mrkdwn string to read as itself."""
    return text.translate(_MRKDWN)


def from_slack(text: str) -> str:
    """The plain text of what Slack delivered (message and slash command text arrive with
    ``&``, ``<``, ``>`` escaped), so that it is stored once, unescaped, like every other
    typed value."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def csv_cell(value: object) -> object:
    """A cell a spreadsheet shows as text: a leading ``'`` defuses formula characters."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return f"'{value}"
    return value
