"""Report pages as data, rendered twice: Markdown (summary.md, reports/README.md) and one self-contained HTML
file (reports/index.html, its images embedded), so both always say the same thing.

A page is a list of blocks (Heading, Paragraph, Bullets, Table, Image); table cells and paragraph parts are
text, a Link, a Verdict or Code.
"""
from __future__ import annotations

import base64
import html
import mimetypes
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Link:
    text: str
    path: str  # relative to the page's folder
    anchor: str = ""  # a section of the same page: the single-file HTML links there instead of to `path`


@dataclass(frozen=True)
class Code:
    text: str  # a command line


@dataclass(frozen=True)
class Verdict:
    text: str  # PASS, FAIL, ...


@dataclass(frozen=True)
class Heading:
    text: str
    level: int
    anchor: str = ""


@dataclass(frozen=True)
class Paragraph:
    parts: tuple  # text, Link and Verdict, joined


@dataclass(frozen=True)
class Bullets:
    items: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple, ...]  # cells: text, Link or Verdict


@dataclass(frozen=True)
class Image:
    path: str  # relative to the page's folder
    caption: str


def bullets(labelled: dict) -> Bullets:
    """{"device": "CPU: ..."} -> "- device: CPU: ..."."""
    return Bullets(tuple(f"{label}: {text}" for label, text in labelled.items()))


def _markdown_cell(cell) -> str:
    if isinstance(cell, Link):
        return f"[{cell.text}]({cell.path})"
    if isinstance(cell, Verdict):
        return f"**{cell.text}**"
    if isinstance(cell, Code):
        return f"`{cell.text}`"
    return str(cell)


def _markdown_block(block) -> str:
    if isinstance(block, Heading):
        return f"{'#' * block.level} {block.text}"
    if isinstance(block, Paragraph):
        return "".join(_markdown_cell(part) for part in block.parts)
    if isinstance(block, Bullets):
        return "\n".join(f"- {item}" for item in block.items)
    if isinstance(block, Table):
        lines = ["| " + " | ".join(block.header) + " |", "|" + "---|" * len(block.header)]
        return "\n".join(lines + ["| " + " | ".join(_markdown_cell(c) for c in row) + " |" for row in block.rows])
    return f"![{block.caption}]({block.path})"


def markdown(blocks) -> str:
    return "\n\n".join(_markdown_block(block) for block in blocks) + "\n"


STYLE = """body { font-family: sans-serif; max-width: 80em; margin: 1em auto; padding: 0 1em; line-height: 1.4 }
table { border-collapse: collapse; margin: 1em 0; font-size: 90% }
th, td { border: 1px solid #ccc; padding: 0.2em 0.5em; text-align: left; vertical-align: top }
th { background: #f3f3f3 }
img { max-width: 100%; height: auto }
figure { margin: 1em 0 }
figcaption { color: #555; font-size: 90% }
.PASS { color: #176b1e } .FAIL { color: #b00020 } .INCONCLUSIVE { color: #8a6100 }
.DIVERGED, .NOT_RUN { color: #555 }"""


def html_cell(cell) -> str:
    if isinstance(cell, Link):
        target = f"#{cell.anchor}" if cell.anchor else cell.path
        return f'<a href="{html.escape(target)}">{html.escape(cell.text)}</a>'
    if isinstance(cell, Verdict):
        return f'<strong class="{cell.text.replace(" ", "_")}">{html.escape(cell.text)}</strong>'
    if isinstance(cell, Code):
        return f"<code>{html.escape(cell.text)}</code>"
    return html.escape(str(cell))


def data_uri(path: Path) -> str:
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{kind};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def html_block(block, folder: Path) -> str:
    if isinstance(block, Heading):
        anchor = f' id="{html.escape(block.anchor)}"' if block.anchor else ""
        return f"<h{block.level}{anchor}>{html.escape(block.text)}</h{block.level}>"
    if isinstance(block, Paragraph):
        return "<p>" + "".join(html_cell(part) for part in block.parts) + "</p>"
    if isinstance(block, Bullets):
        return "<ul>" + "".join(f"<li>{html.escape(item)}</li>" for item in block.items) + "</ul>"
    if isinstance(block, Table):
        header = "".join(f"<th>{html.escape(name)}</th>" for name in block.header)
        rows = "".join("<tr>" + "".join(f"<td>{html_cell(c)}</td>" for c in row) + "</tr>" for row in block.rows)
        return f"<table><thead><tr>{header}</tr></thead><tbody>{rows}</tbody></table>"
    caption = html.escape(block.caption)
    return (f'<figure><img src="{data_uri(folder / block.path)}" alt="{caption}">'
            f"<figcaption>{caption}</figcaption></figure>")


def html_page(title: str, blocks, folder: Path) -> str:
    """One self-contained page: inline style, images read from `folder` and embedded as data URIs."""
    body = "\n".join(html_block(block, folder) for block in blocks)
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>{html.escape(title)}</title>\n'
            f"<style>\n{STYLE}\n</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n")
