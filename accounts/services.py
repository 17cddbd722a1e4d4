"""Roles (Django groups) and users."""
from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction

from audit.recorder import audit_explicit

from .models import RoleGrant
from .roles import ADMINS, ROLE_NAMES, ROLE_PERMISSIONS


class UnknownPermission(LookupError):
    pass


def _permissions(dotted_names) -> dict[str, Permission]:
    """{"app.codename": Permission} for each name, in one query; UnknownPermission names one that is not defined."""
    wanted = set(dotted_names)
    codenames = {name.split(".", 1)[1] for name in wanted}
    found = {f"{p.content_type.app_label}.{p.codename}": p
             for p in Permission.objects.select_related("content_type").filter(codename__in=sorted(codenames))}
    missing = sorted(wanted - found.keys())
    if missing:
        raise UnknownPermission(f"Permission {missing[0]} does not exist (is its app migrated?)")
    return {name: found[name] for name in wanted}


def _permission(dotted: str) -> Permission:
    return _permissions([dotted])[dotted]


@transaction.atomic
def roles_sync() -> dict[str, Group]:
    """Create the four groups and give each exactly the permissions in accounts.roles (a few queries: it runs
    whenever someone's roles are set)."""
    permissions = _permissions(p for name in ROLE_NAMES for p in ROLE_PERMISSIONS[name])
    groups = {}
    for name in ROLE_NAMES:
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set([permissions[p] for p in ROLE_PERMISSIONS[name]])
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
    snapshot["environment_roles"] = sorted(
        f"{role} in {name}" for role, name in user.role_grants.values_list("role", "environment__name"))
    return snapshot


def group_snapshot(group) -> dict | None:
    """What a group's audit events show: its name, permissions and roles per environment."""
    if group is None or group.pk is None:
        return None
    return {"name": group.name, "permissions": sorted(
        f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")),
        "environment_roles": sorted(f"{role} in {name}" for role, name in
                                    group.role_grants.values_list("role", "environment__name"))}


def user_audit(*, user, before: dict | None, actor=None, message: str, environment=None) -> None:
    from audit.choices import AuditAction, ObjectType
    from audit.services import audit_record

    audit_record(action=AuditAction.USER_CHANGED, object_type=ObjectType.USER, object_id=user.pk,
                 object_repr=user.get_username(), actor=actor, before=before, after=user_snapshot(user),
                 message=message, environment=environment)


@transaction.atomic
@audit_explicit(get_user_model())  # records its own event ("Roles set to …")
def user_set_roles(*, user, roles: list[str], actor=None):
    """Put `user` in exactly these role groups. Admins also get the admin site (is_staff)."""
    _check_roles(roles)
    before = user_snapshot(user)
    groups = roles_sync()
    user.groups.remove(*[groups[n] for n in ROLE_NAMES if n not in roles])
    user.groups.add(*[groups[n] for n in roles])
    user.is_staff = ADMINS in roles or user.is_superuser
    user.save(update_fields=["is_staff"])
    from .permissions import forget

    forget(user)
    after = user_snapshot(user)
    if after != before:
        user_audit(user=user, before=before, actor=actor, message=f"Roles set to {', '.join(roles) or 'none'}")
    return user


def _check_roles(roles) -> None:
    unknown = set(roles) - set(ROLE_NAMES)
    if unknown:
        raise ValueError(f"Unknown role(s): {', '.join(sorted(unknown))}. Roles: {', '.join(ROLE_NAMES)}.")


@transaction.atomic
@audit_explicit(RoleGrant)  # the user's event below covers the grants
def user_set_environment_roles(*, user, environment, roles: list[str], actor=None):
    """Give `user` exactly these roles in `environment` only (their roles everywhere are untouched)."""
    from .models import RoleGrant
    from .permissions import forget

    _check_roles(roles)
    before = user_snapshot(user)
    RoleGrant.objects.filter(user=user, environment=environment).exclude(role__in=roles).delete()
    for role in roles:
        RoleGrant.objects.get_or_create(user=user, environment=environment, role=role)
    forget(user)
    after = user_snapshot(user)
    if after != before:
        user_audit(user=user, before=before, actor=actor, environment=environment,
                   message=f"Roles in {environment.name} set to {', '.join(sorted(roles)) or 'none'}")
    return user


@transaction.atomic
@audit_explicit(RoleGrant)  # the group's event below covers the grants
def group_set_environment_roles(*, group, environment, roles: list[str], actor=None):
    """Every member of `group` gets exactly these roles in `environment` (through the group)."""
    from audit.choices import AuditAction, ObjectType
    from audit.services import audit_record

    from .models import RoleGrant

    _check_roles(roles)
    before = sorted(RoleGrant.objects.filter(group=group, environment=environment).values_list("role", flat=True))
    RoleGrant.objects.filter(group=group, environment=environment).exclude(role__in=roles).delete()
    for role in roles:
        RoleGrant.objects.get_or_create(group=group, environment=environment, role=role)
    if before != sorted(roles):
        audit_record(action=AuditAction.GROUP_CHANGED, object_type=ObjectType.GROUP, object_id=group.pk,
                     object_repr=group.name, actor=actor, environment=environment,
                     before={"environment_roles": [f"{r} in {environment.name}" for r in before]},
                     after={"environment_roles": [f"{r} in {environment.name}" for r in sorted(roles)]},
                     message=f"Roles of its members in {environment.name} set to {', '.join(sorted(roles)) or 'none'}")
    return group


def role_grant(*, user, role: str, environment, actor=None):
    """Add one role in one environment (audited)."""
    from .models import RoleGrant

    current = list(RoleGrant.objects.filter(user=user, environment=environment).values_list("role", flat=True))
    return user_set_environment_roles(user=user, environment=environment, roles=sorted({*current, role}), actor=actor)


def role_revoke(*, user, role: str, environment, actor=None):
    """Remove one role in one environment (audited)."""
    from .models import RoleGrant

    current = RoleGrant.objects.filter(user=user, environment=environment).values_list("role", flat=True)
    return user_set_environment_roles(user=user, environment=environment, roles=[r for r in current if r != role],
                                      actor=actor)


def user_create(*, username: str, password: str, roles: list[str], email: str = ""):
    user = get_user_model().objects.create_user(username=username, password=password, email=email)
    return user_set_roles(user=user, roles=roles)
