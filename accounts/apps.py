from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and roles"

    def ready(self):
        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Group

        from audit.choices import AuditAction, ObjectType
        from audit.recorder import audit_track

        from .models import RoleGrant
        from .services import group_snapshot, roles_sync_after_migrate, user_snapshot

        post_migrate.connect(roles_sync_after_migrate, dispatch_uid="accounts.roles_sync")
        # Every change to users, groups and per-environment role grants (memberships and permissions
        # included) is an audit event, whatever path made it (forms, admin site, shell, commands).
        audit_track(get_user_model(), object_type=ObjectType.USER, action=AuditAction.USER_CHANGED,
                    snapshot=user_snapshot, m2m=("groups", "user_permissions"), secret_fields=("password",),
                    ignore_update_fields=("last_login",))
        audit_track(Group, object_type=ObjectType.GROUP, action=AuditAction.GROUP_CHANGED, snapshot=group_snapshot,
                    m2m=("permissions",))
        audit_track(RoleGrant, object_type=ObjectType.ROLE_GRANT, action=AuditAction.ROLE_GRANT_CHANGED,
                    fields=("user", "group", "environment", "role"), environment=lambda grant: grant.environment)
