"""The console pages of the objects audit events name: a registry each app fills in its AppConfig.ready().

audit sits below every app that records events, so it names none of them: an app registers, for an
object type it records events about, the model whose `get_absolute_url` is the object's page and,
if the object's timeline holds more than its own events (a managed object's change requests), how
to gather it.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ObjectPage:
    model: str  # "environments.Environment": its get_absolute_url is the page
    # The dotted path of `history(object_type, object_id)`, the object's timeline (a queryset of
    # AuditEvent), when it holds more than the object's own events; named, so audit imports nothing above it.
    history: str = ""


_PAGES: dict[str, ObjectPage] = {}


def register_object_page(object_type: str, model: str, *, history: str = "") -> None:
    _PAGES[object_type] = ObjectPage(model=model, history=history)


def object_page(object_type: str) -> ObjectPage | None:
    return _PAGES.get(object_type)


def has_object_page(object_type: str) -> bool:
    return object_type in _PAGES
