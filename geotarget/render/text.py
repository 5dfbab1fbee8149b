r"""Text into documents: escaping for HTML and for Markdown, each for its own syntax.

Every report, map page and summary puts names it did not choose (ward and site names, notes, rule
descriptions) into a document. Each format escapes for itself: HTML turns ``<``, ``>``, ``&`` and
quotes into character references; Markdown puts a backslash before the characters Markdown reads
as syntax, so that a ward called "Park & Ride <East>" reads as written in the raw file and when
rendered, with no ``&amp;`` in the Markdown.

>>> html_text('Park & Ride <East> "A"')
'Park &amp; Ride &lt;East&gt; &quot;A&quot;'
>>> md_text("Park & Ride <East> *new* [1]")
'Park & Ride \\<East\\> \\*new\\* \\[1\\]'
>>> md_cell("Norton | Billingham")
'Norton \\| Billingham'

HTML documents are built with :func:`html`: markup comes only from a template written in the code,
and every value put into it is escaped, unless it is itself the result of :func:`html` (a
:class:`markupsafe.Markup`, the type Jinja2's autoescaping uses). No other route from a string to
HTML exists in geotarget's documents, so forgetting to escape one value is not possible:

>>> html("<li>{}</li>", "<img src=x onerror=alert(1)>")
Markup('<li>&lt;img src=x onerror=alert(1)&gt;</li>')
>>> html("<ul>{}</ul>", html_join(html("<li>{}</li>", x) for x in ["a & b", "c"]))
Markup('<ul><li>a &amp; b</li><li>c</li></ul>')
"""

from __future__ import annotations

import html as _html
import re
from collections.abc import Iterable

from markupsafe import Markup

#: Characters that Markdown (CommonMark/GitHub) can read as syntax anywhere in a line. ``<`` and
#: ``>`` are included because a Markdown renderer passes raw HTML tags through.
_MD_INLINE = re.compile(r"([\\`*_\[\]<>])")
#: ``&`` only where it would start a character reference (``&amp;``, ``&#38;``): elsewhere it is text.
_MD_ENTITY = re.compile(r"&(?=#?[0-9A-Za-z]+;)")
#: Block markers at the start of a line: a heading, a quote, a list item, a thematic break.
_MD_LEADING = re.compile(r"^(\s*)([#>+=-]|\d+(?=[.)]))")


def html_text(text: object, *, quote: bool = True) -> str:
    """``text`` as HTML text or attribute value: ``&``, ``<``, ``>`` (and quotes, unless ``quote=False``) escaped."""
    return _html.escape(str(text), quote=quote)


def html(template: str, *values: object, **named: object) -> Markup:
    """HTML from ``template`` (markup written in the code) with ``{}`` fields filled by escaped ``values``.

    ``template`` must be a literal of the calling code, never data; each value is escaped for HTML text
    and attribute values (``& < > " '``) unless it is already :class:`~markupsafe.Markup` made by
    :func:`html` or :func:`html_join`.
    """
    return Markup(template).format(*map(_markup, values), **{k: _markup(v) for k, v in named.items()})


def html_join(parts: Iterable[object], sep: str = "") -> Markup:
    """``parts`` joined by ``sep`` as HTML: parts that are not :class:`~markupsafe.Markup` are escaped."""
    return Markup(sep).join(map(_markup, parts))


#: Heading templates by block kind (``"h1"``, ``"h2"``, ``"h3"``), for the documents built from blocks.
_HEADINGS = {"h1": "<h1>{}</h1>", "h2": "<h2>{}</h2>", "h3": "<h3>{}</h3>"}


def html_heading(kind: str, text: object) -> Markup:
    """Return a heading of level ``kind`` (``"h1"``, ``"h2"`` or ``"h3"``) with ``text`` escaped.

    >>> html_heading("h2", "Flags & notes")
    Markup('<h2>Flags &amp; notes</h2>')
    """
    return html(_HEADINGS[kind], text)


def _markup(value: object) -> Markup:
    """``value`` as HTML: kept if it is already HTML (``__html__``), else escaped by :func:`html_text`."""
    return value if hasattr(value, "__html__") else Markup(html_text(value))


def md_text(text: object) -> str:
    """``text`` as one line of Markdown that renders as written: Markdown syntax backslash-escaped.

    Line breaks become spaces (a report line stays one paragraph, list item or heading).
    """
    s = str(text).replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
    s = _MD_INLINE.sub(r"\\\1", s)
    s = _MD_ENTITY.sub(r"\\&", s)
    return _MD_LEADING.sub(lambda m: m.group(1) + (m.group(2) + "\\" if m.group(2)[0].isdigit() else
                                                   "\\" + m.group(2)), s, count=1)


def md_cell(text: object) -> str:
    """``text`` for a Markdown table cell: :func:`md_text` with the column separator ``|`` escaped too."""
    return md_text(text).replace("|", "\\|")


__all__ = ["Markup", "html", "html_heading", "html_join", "html_text", "md_cell", "md_text"]
