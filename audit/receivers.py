"""Sign-in, failed sign-in and sign-out become audit events. (Which models the recorder tracks from any
path is said by their own apps' ready(): audit.recorder.audit_track.)"""
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from .choices import AuditAction, ObjectType
from .services import audit_record


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
