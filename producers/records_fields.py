"""Scalar values of records: conversions that can fail with a message, derived dates and YouTube ids.

record_tree.pyx walks the elements in C and calls these. They raise ValueError for a value the format defines as
an integer (or boolean) that is not one; records.py turns it into a RecordError of the whole record.
"""

from __future__ import annotations

from lxml import etree

# The shape of (nearly) every dump video: matched without the cost of a full URL parse.
# XML white space only: a name made of a single NBSP is a real (if odd) value, not a missing one.
WS = " \t\r\n"

Element = etree._Element


# ---------------------------------------------------------------------------------------------- scalars


def attr(value: str | None) -> str | None:
    if value is None:
        return None
    return value.strip(WS) or None


def to_int(value: str | None, what: str) -> int | None:
    """Integer of a stripped value (None stays None); anything else is a malformed record."""
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{what} is not an integer: {value[:50]!r}") from None


def to_bool(value: str | None, what: str) -> bool | None:
    if value is None:
        return None
    lowered = value.lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    raise ValueError(f"{what} is not a boolean: {value[:50]!r}")


def _is_number(text: str) -> bool:
    # str.isdigit alone accepts characters such as "²" that int() rejects.
    return text.isascii() and text.isdigit()


def _date_part(part: str, high: int) -> int | None:
    if not _is_number(part):
        return None
    number = int(part)
    return number if 1 <= number <= high else None


def split_released(released: str | None) -> tuple[int | None, int | None, int | None]:
    """(year, month, day) of a free-form partial date (`YYYY`, `YYYY-MM-DD`, `YYYY-00-00` ...); 0/00 = None.

    The year is the first four characters when they are digits other than `0000` (the facet index relies on it).
    """
    if not released:
        return None, None, None
    head = released[:4]
    year = int(head) if len(head) == 4 and _is_number(head) and head != "0000" else None
    parts = released.split("-")
    month = _date_part(parts[1], 12) if len(parts) > 1 else None
    day = _date_part(parts[2], 31) if len(parts) > 2 else None
    return year, month, day


