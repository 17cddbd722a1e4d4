"""Local mode only: one demo user per role, with a random password kept in var/demo-users.json."""
from __future__ import annotations

import json
import os
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model

from .roles import ADMINS, OPERATORS, REVIEWERS, VIEWERS
from .services import user_create, user_set_roles

DEMO_USERS = [("operator", OPERATORS), ("reviewer", REVIEWERS), ("viewer", VIEWERS), ("admin", ADMINS)]


def credentials_file():
    return settings.VAR_DIR / "demo-users.json"


def demo_users_seed() -> list[dict]:
    """Create (or repair) the demo users; return [{username, password, role, created}]."""
    if not settings.LOCAL_MODE:
        raise RuntimeError("Demo users with known passwords exist only in local mode.")
    path = credentials_file()
    saved = json.loads(path.read_text()) if path.exists() else {}
    User = get_user_model()
    rows = []
    for username, role in DEMO_USERS:
        user = User.objects.filter(username=username).first()
        password = saved.get(username)
        created = user is None
        if created:
            password = secrets.token_urlsafe(9)
            user = user_create(username=username, password=password, roles=[role],
                               email=f"{username}@example.com")
        elif password is None or not user.check_password(password):
            password = secrets.token_urlsafe(9)  # the saved one was lost: set a new one we can print
            user.set_password(password)
            user.save(update_fields=["password"])
        user_set_roles(user=user, roles=[role])
        saved[username] = password
        rows.append({"username": username, "password": password, "role": role, "created": created})
    path.write_text(json.dumps(saved, indent=2))
    os.chmod(path, 0o600)
    return rows
