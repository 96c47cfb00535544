"""Markdown for lessons and descriptions, rendered without raw HTML so content cannot inject script."""

from markdown_it import MarkdownIt

# "js-default" is CommonMark with raw HTML disabled and unsafe link schemes refused.
_md = MarkdownIt("js-default", {"linkify": False, "typographer": True}).enable("table")


def render_markdown(text: str) -> str:
    return _md.render(text)
