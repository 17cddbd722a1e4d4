"""Ids and numbers from a query string or a form post, read without ever raising."""
from __future__ import annotations

MAX_ID = 2**63 - 1  # the largest primary key a database can hold; anything bigger names nothing


def int_param(value, default: int | None = None) -> int | None:
    """`value` as a non-negative int when it is one (and fits a database id), else `default`."""
    text = value.strip() if isinstance(value, str) else ""
    return int(text) if text.isascii() and text.isdigit() and int(text) <= MAX_ID else default
