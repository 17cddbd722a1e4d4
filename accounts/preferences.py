"""The defaults a person's pages start from: the time zone they last picked, else their browser's.

The browser's zone reaches the server in a cookie that static/js/timezone.js sets on every page
(Intl.DateTimeFormat().resolvedOptions().timeZone); scripts cannot be inline under our
Content-Security-Policy, and a cookie lets the server draw the first page in that zone already.

    time_zone_default(request)          # "Europe/Paris" (last picked), "America/New_York" (browser), "UTC"
    time_zone_remember(user, "Asia/Tokyo")
"""
from __future__ import annotations

from core.timezones import DisplayZoneForm, is_time_zone

from .models import Preference

__all__ = ["BROWSER_ZONE_COOKIE", "display_zone_form", "time_zone_default", "time_zone_from_browser",
           "time_zone_remember", "time_zone_saved"]

BROWSER_ZONE_COOKIE = "browser_time_zone"  # the name static/js/timezone.js writes


def time_zone_saved(user) -> str:
    """The zone `user` last picked ("" when none, or when it is no longer a known zone)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return ""
    cached = getattr(user, "_eventconsole_time_zone", None)
    if cached is None:
        cached = Preference.objects.filter(user=user.pk).values_list("time_zone", flat=True).first() or ""
        user._eventconsole_time_zone = cached
    return cached if is_time_zone(cached) else ""


def time_zone_from_browser(request) -> str:
    """The browser's own zone, as its cookie says ("" when unknown or not a zone we list)."""
    value = request.COOKIES.get(BROWSER_ZONE_COOKIE, "")
    return value if is_time_zone(value) else ""


def time_zone_default(request) -> str:
    """Where a time zone picker starts: the zone last picked, else the browser's, else UTC."""
    return time_zone_saved(request.user) or time_zone_from_browser(request) or "UTC"


def time_zone_remember(user, zone: str) -> None:
    """Keep `zone` as `user`'s default for next time (ignored when it is not a zone we list)."""
    if not is_time_zone(zone) or not getattr(user, "is_authenticated", False):
        return
    if time_zone_saved(user) != zone:
        Preference.objects.update_or_create(user_id=user.pk, defaults={"time_zone": zone})
    user._eventconsole_time_zone = zone


def display_zone_form(request) -> DisplayZoneForm:
    """A page's "Show times in" (GET `zone`), starting at this person's default zone; when neither a pick nor
    the browser's cookie is known yet, the browser's script fills it in."""
    known = time_zone_saved(request.user) or time_zone_from_browser(request)
    return DisplayZoneForm(request.GET, default=known or "UTC", ask_browser=not known)
