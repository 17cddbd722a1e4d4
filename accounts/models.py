"""Accounts use Django's User and Group models; roles are groups (see accounts.roles).

A membership of a role group is that role in every environment. A RoleGrant is a role in one
environment only, given to one user or to every member of a group (a team).
"""
from django.conf import settings
from django.db import models

from .roles import ROLE_NAMES


class RoleGrant(models.Model):
    """`user` (or every member of `group`) has `role` in `environment` only (Operators in Sandbox, say)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="user", on_delete=models.CASCADE,
                             related_name="role_grants", null=True, blank=True)
    group = models.ForeignKey("auth.Group", verbose_name="group", on_delete=models.CASCADE,
                              related_name="role_grants", null=True, blank=True,
                              help_text="Every member of this group holds the role in the environment.")
    role = models.CharField(verbose_name="role", max_length=32, choices=[(name, name) for name in ROLE_NAMES])
    environment = models.ForeignKey("environments.Environment", verbose_name="environment",
                                    on_delete=models.CASCADE, related_name="role_grants")
    created = models.DateTimeField(verbose_name="granted", auto_now_add=True)

    class Meta:
        ordering = ("environment__name", "role")
        verbose_name = "role in one environment"
        verbose_name_plural = "roles in one environment"
        constraints = [
            models.CheckConstraint(
                name="%(app_label)s_%(class)s_user_or_group",
                condition=(models.Q(user__isnull=False, group__isnull=True)
                           | models.Q(user__isnull=True, group__isnull=False)),
            ),
            models.UniqueConstraint(fields=["user", "role", "environment"], condition=models.Q(user__isnull=False),
                                    name="%(app_label)s_%(class)s_once_per_user"),
            models.UniqueConstraint(fields=["group", "role", "environment"], condition=models.Q(group__isnull=False),
                                    name="%(app_label)s_%(class)s_once_per_group"),
        ]

    def __str__(self):
        return f"{self.role} in {self.environment}"


class Preference(models.Model):
    """What the console remembers about how one person likes to see things (not a permission: no audit).

    `time_zone` is the zone they last picked for a schedule; forms and pages that show times start
    there (accounts.preferences.time_zone_default)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, verbose_name="user", on_delete=models.CASCADE,
                                primary_key=True, related_name="preference")
    time_zone = models.CharField(verbose_name="time zone", max_length=50, blank=True,
                                 help_text="The IANA time zone last picked, e.g. America/New_York.")
    updated = models.DateTimeField(verbose_name="updated", auto_now=True)

    class Meta:
        verbose_name = "preference"
        verbose_name_plural = "preferences"

    def __str__(self):
        return f"preferences of {self.user}"
