"""Accounts use Django's User and Group models; roles are groups (see accounts.roles).

A group membership is a role in every environment. A RoleGrant is a role in one environment only.
"""
from django.conf import settings
from django.db import models

from .roles import ROLE_NAMES


class RoleGrant(models.Model):
    """`user` has `role` in `environment` only (Operators in Sandbox, say)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="user", on_delete=models.CASCADE,
                             related_name="role_grants")
    role = models.CharField(verbose_name="role", max_length=32, choices=[(name, name) for name in ROLE_NAMES])
    environment = models.ForeignKey("environments.Environment", verbose_name="environment",
                                    on_delete=models.CASCADE, related_name="role_grants")
    created = models.DateTimeField(verbose_name="granted", auto_now_add=True)

    class Meta:
        ordering = ("environment__name", "role")
        verbose_name = "role in one environment"
        verbose_name_plural = "roles in one environment"
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "environment"], name="%(app_label)s_%(class)s_once"),
        ]

    def __str__(self):
        return f"{self.role} in {self.environment}"
