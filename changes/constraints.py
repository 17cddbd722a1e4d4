"""AWS constraints read from botocore's service models (names, lengths, patterns, ranges, enums).

moto enforces almost none of these, so EventConsole checks them itself before anything is sent.
"""
from __future__ import annotations

import re
from functools import cache

from botocore.session import get_session


@cache
def _model(service: str):
    return get_session().get_service_model(service)


@cache
def shape(service: str, name: str) -> dict:
    """{"min", "max", "pattern", "enum"} of a named shape in `service`'s model (what it has of them)."""
    s = _model(service).shape_for(name)
    found = {k: v for k, v in s.metadata.items() if k in ("min", "max", "pattern")}
    if getattr(s, "enum", None):
        found["enum"] = list(s.enum)
    return found


@cache
def member(service: str, structure: str, name: str) -> dict:
    """Constraints of a member of a structure (e.g. RetryPolicy.MaximumRetryAttempts)."""
    s = _model(service).shape_for(structure).members[name]
    found = {k: v for k, v in s.metadata.items() if k in ("min", "max", "pattern")}
    if getattr(s, "enum", None):
        found["enum"] = list(s.enum)
    return found


@cache
def _compiled(pattern: str):
    return re.compile(pattern if pattern.startswith("^") else f"^(?:{pattern})$")


def check_string(value: str | None, rules: dict, *, label: str, allowed: str = "", required: bool = True) -> list[str]:
    """Messages for a string that breaks `rules` (empty list when it is fine)."""
    if value is None or value == "":
        return [f"{label} is required."] if required and rules.get("min", 1) > 0 else []
    errors = []
    if "min" in rules and len(value) < rules["min"]:
        errors.append(f"{label} must be at least {rules['min']} characters.")
    if "max" in rules and len(value) > rules["max"]:
        errors.append(f"{label} must be at most {rules['max']} characters (it has {len(value)}).")
    if "pattern" in rules and not _compiled(rules["pattern"]).match(value):
        errors.append(f"{label} may contain only {allowed}." if allowed else f"{label} is not in the form AWS accepts.")
    if "enum" in rules and value not in rules["enum"]:
        errors.append(f"{label} must be one of {', '.join(rules['enum'])}.")
    return errors


def check_number(value, rules: dict, *, label: str, unit: str = "") -> list[str]:
    if value is None:
        return []
    if isinstance(value, bool) or not isinstance(value, int):
        return [f"{label} must be a whole number."]
    low, high = rules.get("min"), rules.get("max")
    suffix = f" {unit}" if unit else ""
    if low is not None and value < low or high is not None and value > high:
        return [f"{label} must be between {low} and {high}{suffix}."]
    return []
