"""Roles (Django groups) and users."""
from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction

from audit.recorder import audit_explicit

from .roles import ADMINS, ROLE_NAMES, ROLE_PERMISSIONS


class UnknownPermission(LookupError):
    pass


def _permission(dotted: str) -> Permission:
    app_label, codename = dotted.split(".", 1)
    try:
        return Permission.objects.get(content_type__app_label=app_label, codename=codename)
    except Permission.DoesNotExist as exc:
        raise UnknownPermission(f"Permission {dotted} does not exist (is its app migrated?)") from exc


@transaction.atomic
def roles_sync() -> dict[str, Group]:
    """Create the four groups and give each exactly the permissions in accounts.roles."""
    groups = {}
    for name in ROLE_NAMES:
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set([_permission(p) for p in ROLE_PERMISSIONS[name]])
        groups[name] = group
    return groups


def roles_sync_after_migrate(sender, app_config=None, **kwargs):
    # Run once per migrate (accounts is an app with a models module, so post_migrate reaches it);
    # create every app's permissions first, since apps later in INSTALLED_APPS have not had theirs yet.
    if app_config is not None and app_config.label == "accounts":
        from django.contrib.auth.management import create_permissions
        from django.apps import apps

        for config in apps.get_app_configs():
            create_permissions(config, verbosity=0, using=kwargs.get("using", "default"))
        roles_sync()


USER_FIELDS = ("username", "email", "first_name", "last_name", "is_active", "is_staff", "is_superuser")


def user_snapshot(user) -> dict | None:
    """What an audit event records of a user: the fields that matter and the groups (never the password)."""
    if user is None or user.pk is None:
        return None
    snapshot = {name: getattr(user, name) for name in USER_FIELDS}
    snapshot["groups"] = sorted(user.groups.values_list("name", flat=True))
    snapshot["permissions"] = sorted(f"{app}.{codename}" for app, codename in user.user_permissions.values_list(
        "content_type__app_label", "codename"))
    return snapshot


def user_audit(*, user, before: dict | None, actor=None, message: str) -> None:
    from audit.choices import AuditAction, ObjectType
    from audit.services import audit_record

    audit_record(action=AuditAction.USER_CHANGED, object_type=ObjectType.USER, object_id=user.pk,
                 object_repr=user.get_username(), actor=actor, before=before, after=user_snapshot(user),
                 message=message)


@transaction.atomic
@audit_explicit(get_user_model())  # records its own event ("Roles set to …")
def user_set_roles(*, user, roles: list[str], actor=None):
    """Put `user` in exactly these role groups. Admins also get the admin site (is_staff)."""
    unknown = set(roles) - set(ROLE_NAMES)
    if unknown:
        raise ValueError(f"Unknown role(s): {', '.join(sorted(unknown))}. Roles: {', '.join(ROLE_NAMES)}.")
    before = user_snapshot(user)
    groups = roles_sync()
    user.groups.remove(*[groups[n] for n in ROLE_NAMES if n not in roles])
    user.groups.add(*[groups[n] for n in roles])
    user.is_staff = ADMINS in roles or user.is_superuser
    user.save(update_fields=["is_staff"])
    after = user_snapshot(user)
    if after != before:
        user_audit(user=user, before=before, actor=actor, message=f"Roles set to {', '.join(roles) or 'none'}")
    return user


def user_create(*, username: str, password: str, roles: list[str], email: str = ""):
    user = get_user_model().objects.create_user(username=username, password=password, email=email)
    return user_set_roles(user=user, roles=roles)
