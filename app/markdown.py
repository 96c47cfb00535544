"""Markdown for lessons and descriptions, rendered without raw HTML so content cannot inject script."""

from markdown_it import MarkdownIt
from markupsafe import Markup

# "js-default" is CommonMark with raw HTML disabled and unsafe link schemes refused.
_md = MarkdownIt("js-default", {"linkify": False, "typographer": True}).enable("table")


def render_markdown(text: str) -> Markup:
    """HTML that templates may print as is: the one place that vouches for it."""
    return Markup(_md.render(text))  # noqa: S704 - raw HTML is disabled above
