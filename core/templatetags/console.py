"""Template helpers shared by every page."""
import json

from django import template

from core import safejson
from core.tables import owner_cell, select_cell, status_badge

register = template.Library()
register.filter("status_badge", status_badge)  # a managed object's sync status (or pending change) badge
register.filter("owner_cell", owner_cell)  # who owns it: EventConsole, an AWS service, a CloudFormation stack
register.filter("select_cell", select_cell)  # the checkbox selecting it for a bulk action


@register.filter
def pretty_json(value):
    """Indented JSON; a string holding JSON (an event pattern) is parsed first."""
    if isinstance(value, str):
        try:
            value = safejson.loads(value)
        except safejson.InvalidJSON:
            return value
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


@register.filter
def full_json(value):
    """A value whole, as short_json shows it but never cut (the page wraps it)."""
    if value is None:
        return "—"
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, ensure_ascii=False)


@register.filter
def short_json(value):
    if value is None:
        return "—"
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, ensure_ascii=False)
    return text if len(text) <= 120 else text[:117] + "…"
