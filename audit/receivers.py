"""Sign-in, failed sign-in and sign-out become audit events; so does every change to environments, users,
groups and per-environment role grants (memberships and permissions included), from any path (audit.recorder)."""
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from accounts.models import RoleGrant
from accounts.services import group_snapshot, user_snapshot
from environments.models import Environment
from environments.services import environment_snapshot

from .choices import AuditAction, ObjectType
from .recorder import audit_track
from .services import audit_record


audit_track(Environment, object_type=ObjectType.ENVIRONMENT, action=AuditAction.ENVIRONMENT_CHANGED,
            snapshot=environment_snapshot, environment=lambda environment: environment)
audit_track(get_user_model(), object_type=ObjectType.USER, action=AuditAction.USER_CHANGED, snapshot=user_snapshot,
            m2m=("groups", "user_permissions"), secret_fields=("password",), ignore_update_fields=("last_login",))
audit_track(Group, object_type=ObjectType.GROUP, action=AuditAction.GROUP_CHANGED, snapshot=group_snapshot,
            m2m=("permissions",))
audit_track(RoleGrant, object_type=ObjectType.ROLE_GRANT, action=AuditAction.ROLE_GRANT_CHANGED,
            fields=("user", "group", "environment", "role"), environment=lambda grant: grant.environment)


@receiver(user_logged_in, dispatch_uid="audit.signed_in")
def _signed_in(sender, request, user, **kwargs):
    audit_record(action=AuditAction.SIGNED_IN, object_type=ObjectType.USER, object_id=user.pk,
                 object_repr=user.get_username(), actor=user)


@receiver(user_logged_out, dispatch_uid="audit.signed_out")
def _signed_out(sender, request, user, **kwargs):
    if user is not None:
        audit_record(action=AuditAction.SIGNED_OUT, object_type=ObjectType.USER, object_id=user.pk,
                     object_repr=user.get_username(), actor=user)


@receiver(user_login_failed, dispatch_uid="audit.sign_in_failed")
def _sign_in_failed(sender, credentials, request=None, **kwargs):
    username = str(credentials.get("username", ""))[:150]
    audit_record(action=AuditAction.SIGN_IN_FAILED, object_type=ObjectType.USER, object_repr=username,
                 message=f"Failed sign-in for {username!r}")
