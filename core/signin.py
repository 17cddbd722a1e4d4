"""Sign-in: the name typed is checked before anyone looks it up or records the attempt.

Django's AuthenticationForm shows the user name's maximum length in the page but does not check
it, so a 5,000-character name went to authenticate() and django-axes tried to store it in a
255-character column: a 500 on PostgreSQL. Here it is a field error, and axes never sees more
than its column holds.
"""
from __future__ import annotations

from django.contrib.auth.forms import AuthenticationForm
from django.core.validators import MaxLengthValidator

AXES_USERNAME_MAX = 255  # axes.models.AccessBase.username


class SignInForm(AuthenticationForm):
    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        field = self.fields["username"]
        field.validators.append(MaxLengthValidator(field.max_length or AXES_USERNAME_MAX))


def axes_username(request, credentials: dict | None = None) -> str | None:
    """The user name django-axes records and locks out by (AXES_USERNAME_CALLABLE), cut to its column."""
    data = credentials if credentials else getattr(request, "data", None) or getattr(request, "POST", {})
    value = data.get("username") if hasattr(data, "get") else None
    return value[:AXES_USERNAME_MAX] if isinstance(value, str) else value
