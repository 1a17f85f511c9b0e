"""CSV for spreadsheets. Every CSV Rolegate writes (the permission matrix, T6; the audit
log, E8) goes through `csv_text`, so no cell opens as a formula, whoever typed it: a
role, member or field name such as `=HYPERLINK(...)` or `@SUM(1)` is data that an
administrator later opens in Excel or LibreOffice (CSV injection).

The defense is OWASP's: a cell whose first character a spreadsheet reads as the start of
a formula gets a leading `'`, which spreadsheets take as "this is text" and do not show.
The rest (commas, quotes, line breaks inside a cell) is RFC 4180 quoting by `csv`."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from rolegate.domain.roles import Role
from rolegate.domain.schema import ProductSchema

__all__ = ["FORMULA_PREFIXES", "csv_cell", "csv_text", "role_facts"]

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
"""OWASP's list: `=`, `+`, `-`, `@`, tab and carriage return start a formula (a tab or
CR is skipped by some spreadsheets, which then read what follows)."""


def csv_cell(value: object) -> str:
    """The cell as text a spreadsheet will not evaluate. A negative number becomes text
    too (`'-5`): no export has one, and telling a number from `-1+cmd|...` is the trap."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def csv_text(header: Sequence[object], rows: Iterable[Sequence[object]]) -> str:
    """The whole file: header and rows, every cell through `csv_cell`, CRLF line ends
    (RFC 4180)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([csv_cell(v) for v in header])
    writer.writerows([csv_cell(v) for v in row] for row in rows)
    return buf.getvalue()


def role_facts(schema: ProductSchema, roles: Sequence[Role]) -> list[list[str]]:
    """The matrix's last rows, one cell per role column, in the product's own words
    (T3: "Type" Standard/Custom and "License" in telephony): each role's type and level."""
    words = schema.words
    return [
        ["", "", words.role_type, *(words.system_role if r.is_system else words.custom_role for r in roles)],
        ["", "", words.level, *(schema.levels[r.level].label for r in roles)],
    ]
