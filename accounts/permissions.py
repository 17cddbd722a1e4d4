"""The one place that answers "may user U do permission P in environment E".

A role held through a group (accounts.roles) counts in every environment; a RoleGrant counts in its
environment only. Grants never give what is not about one environment (adding environments,
managing users): those stay with the global Admins role.

Answers are cached on the user object, so one request asks the database once (the request's
`request.user` lives as long as the request). Services that change grants clear the cache of the
user object they were given.

    user_can(user, "changes.submit_changerequest", environment)   # -> bool
    environments_where(user, "rules.view_rule")                    # -> ALL, or a frozenset of ids
    restrict(Rule.objects.all(), user, "rules.view_rule")          # a queryset limited to those
"""
from __future__ import annotations

from django.contrib.auth.backends import BaseBackend, ModelBackend

from .roles import ROLE_NAMES, ROLE_PERMISSIONS

__all__ = ["ALL", "ENVIRONMENT_WIDE", "user_can", "environments_where", "restrict", "has_any_role",
           "grants_of", "forget", "roles_by_environment", "EnvironmentRoleBackend", "SUBMIT", "REVIEW", "TEST", "CHANGE_ENV", "DELETE_ENV"]

SUBMIT = "changes.submit_changerequest"
REVIEW = "changes.review_changerequest"
TEST = "environments.test_connection"
CHANGE_ENV = "environments.change_environment"
DELETE_ENV = "environments.delete_environment"


class _All:
    """Every environment (a role held through a group, or a superuser)."""

    def __contains__(self, item):
        return True

    def __repr__(self):
        return "ALL"


ALL = _All()

# Permissions a grant in one environment can give: everything of a role except what spans environments
# (these, and managing users and their roles: auth.* and accounts.*).
ENVIRONMENT_WIDE = frozenset({"environments.add_environment"})


def _scoped(role: str) -> frozenset[str]:
    return frozenset(p for p in ROLE_PERMISSIONS.get(role, ()) if not p.startswith(("auth.", "accounts."))
                     and p not in ENVIRONMENT_WIDE)


_ROLE_SCOPED = {name: _scoped(name) for name in ROLE_NAMES}
_CACHE, _ROWS, _MENU = "_eventconsole_grants", "_eventconsole_grant_rows", "_eventconsole_roles"


def _usable(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False) and user.is_active


def _global(user) -> set[str]:
    return ModelBackend().get_all_permissions(user)  # cached by Django on the user (_perm_cache)


def grants_of(user) -> dict[int, frozenset[str]]:
    """{environment id: permissions} from the user's RoleGrants (one query per user object)."""
    cached = getattr(user, _CACHE, None)
    if cached is None:
        by_env: dict[int, set[str]] = {}
        for env_id, _, role in _grant_rows(user):
            by_env.setdefault(env_id, set()).update(_ROLE_SCOPED.get(role, ()))
        cached = {env_id: frozenset(perms) for env_id, perms in by_env.items()}
        setattr(user, _CACHE, cached)
    return cached


def _grant_rows(user) -> list[tuple[int, str, str]]:
    """[(environment id, environment name, role)]: the user's own grants and their groups' (one query)."""
    rows = getattr(user, _ROWS, None)
    if rows is None:
        from django.db.models import Q

        from .models import RoleGrant

        rows = sorted(set(RoleGrant.objects.filter(Q(user_id=user.pk) | Q(group__user=user.pk))
                          .values_list("environment_id", "environment__name", "role")))
        setattr(user, _ROWS, rows)
    return rows


def forget(user) -> None:
    """Drop the cached answers on this user object (after its grants or groups changed)."""
    for name in (_CACHE, _ROWS, _MENU, "_perm_cache", "_user_perm_cache", "_group_perm_cache"):
        if hasattr(user, name):
            delattr(user, name)


def _environment_id(environment) -> int | None:
    if environment is None:
        return None
    if isinstance(environment, int):
        return environment
    from environments.models import Environment

    if isinstance(environment, Environment):
        return environment.pk
    return getattr(environment, "environment_id", None)  # a rule, schedule or change


def user_can(user, perm: str, environment) -> bool:
    """May `user` use `perm` in `environment` (an Environment, its id, or an object with environment_id)?"""
    if not _usable(user):
        return False
    if user.is_superuser or perm in _global(user):
        return True
    env_id = _environment_id(environment)
    return env_id is not None and perm in grants_of(user).get(env_id, ())


def environments_where(user, perm: str):
    """ALL when `user` may use `perm` everywhere, else the frozenset of environment ids where they may."""
    if not _usable(user):
        return frozenset()
    if user.is_superuser or perm in _global(user):
        return ALL
    return frozenset(env_id for env_id, perms in grants_of(user).items() if perm in perms)


def restrict(queryset, user, perm: str, field: str = "environment"):
    """`queryset` limited to the environments where `user` may use `perm` (no filter when everywhere)."""
    where = environments_where(user, perm)
    if where is ALL:
        return queryset
    return queryset.filter(**{f"{field}__in": sorted(where)})


def has_any_role(user) -> bool:
    """True when the user holds a role anywhere (a role group, a grant, a direct permission, or superuser)."""
    if not _usable(user):
        return False
    return user.is_superuser or bool(_global(user)) or bool(grants_of(user))


def roles_by_environment(user) -> list[tuple[str, list[str]]]:
    """[("every environment", [roles]), (environment name, [roles]), …] for the menu (two queries, once
    per user object)."""
    cached = getattr(user, _MENU, None)
    if cached is not None:
        return cached
    rows = []
    global_roles = sorted(g.name for g in user.groups.all() if g.name in ROLE_NAMES)
    if user.is_superuser:
        global_roles = sorted(set(global_roles) | {"superuser"})
    if global_roles:
        rows.append(("every environment", global_roles))
    by_env: dict[str, set[str]] = {}
    for _, name, role in _grant_rows(user):
        by_env.setdefault(name, set()).add(role)
    rows.extend((name, sorted(roles)) for name, roles in sorted(by_env.items()))
    setattr(user, _MENU, rows)
    return rows


class EnvironmentRoleBackend(BaseBackend):
    """Lets `user.has_perm(perm)` and `user.has_perm(perm, obj)` see per-environment grants.

    Without an object: True when a grant gives `perm` in at least one environment (the page opens;
    each object on it is then checked). With an environment (or a rule, schedule or change): True
    when the user may use `perm` there, by group or by grant.
    """

    def has_perm(self, user_obj, perm, obj=None):
        if not _usable(user_obj):
            return False
        if obj is None:
            return any(perm in perms for perms in grants_of(user_obj).values())
        if _environment_id(obj) is None:
            return False
        return user_can(user_obj, perm, obj)
