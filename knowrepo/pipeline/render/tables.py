"""Numeric table columns, right-aligned: the build marks them, since CSS cannot tell a column
of numbers from a column of words, and a PDF has no script to do it in the browser.

A column is numeric when every non-empty body cell in it reads as a number (1,234.5, -3 %,
$12, 1e-3, (42), n/a aside). Its cells (and its header) get class="num". A cell that already
says its alignment (Markdown's `style="text-align: ..."`, pandas' `align`) keeps it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bs4 import BeautifulSoup, Tag

_TABLE = re.compile(r"<table\b.*?</table>", re.S | re.I)
_NUMBER = re.compile(
    r"^[(\-−+]?\s*[$€£¥]?\s*(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?([eE][-+]?\d+)?\s*(%|‰|[kKMBx]|pp)?\)?$"
)
_MISSING = {"", "nan", "none", "null", "n/a", "na", "-", "—", "–", "<na>", "nat"}


def is_number(text: str) -> bool:
    text = text.strip().replace("\u2009", "").replace("\xa0", "")
    return bool(text) and any(c.isdigit() for c in text) and bool(_NUMBER.match(text))


def align_numeric_columns(html: str) -> str:
    """The HTML with every table's numeric columns marked class="num"."""
    if "<table" not in html.lower():
        return html
    return _TABLE.sub(lambda m: _align_table(m.group()), html)


def _align_table(table: str) -> str:
    from bs4 import BeautifulSoup  # (nbconvert's own dependency) only for pages with tables

    soup = BeautifulSoup(table, "html.parser")
    node = soup.find("table")
    if node is None or node.find("table"):  # a table inside a table: left as it is
        return table
    rows = [row.find_all(["td", "th"], recursive=False) for row in node.find_all("tr")]
    body_rows = [cells for row, cells in zip(node.find_all("tr"), rows, strict=True) if row.find("td")]
    if not body_rows or any(cell.get("colspan") for cells in rows for cell in cells):
        return table  # spanning cells: columns cannot be told apart simply
    if "dataframe" in (node.get("class") or []):  # pandas right-aligns every header, text too:
        for row in node.select("thead > tr[style]"):  # the headers follow their columns instead
            if str(row["style"]).replace(" ", "").rstrip(";").lower() == "text-align:right":
                del row["style"]
    numeric = []
    for column in range(max(len(cells) for cells in body_rows)):
        texts = [c[column].get_text() for c in body_rows if column < len(c) and c[column].name == "td"]
        values = [t for t in texts if t.strip().lower() not in _MISSING]
        numeric.append(bool(values) and all(is_number(t) for t in values))
    for cells in rows:
        header_row = all(cell.name == "th" for cell in cells)
        for column, cell in enumerate(cells):
            if header_row and cell.name == "th" and not cell.get_text(strip=True):
                _label_empty_header(soup, cell)
            if column >= len(numeric) or not numeric[column] or (cell.name == "th" and not header_row):
                continue  # not a numeric column, or a row's label
            if "text-align" in (cell.get("style") or "") or cell.get("align"):
                continue  # the author's (or pandas') own alignment
            classes = cell.get_attribute_list("class")
            classes.append("num")
            cell["class"] = classes
    return str(soup)


def _label_empty_header(soup: BeautifulSoup, cell: Tag) -> None:
    """An empty header cell (pandas' index column) gets text for screen readers only: a
    header with no text is announced as nothing (axe: empty-table-header)."""
    # (not in search excerpts: "Row revenue orders Row Row" read as noise there)
    label = soup.new_tag("span", attrs={"class": "visually-hidden", "data-pagefind-ignore": ""})
    label.string = "Row"
    cell.append(label)
