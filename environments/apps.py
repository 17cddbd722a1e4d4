from django.apps import AppConfig


class EnvironmentsConfig(AppConfig):
    name = "environments"
    verbose_name = "AWS environments"

    def ready(self):
        from audit.choices import AuditAction, ObjectType
        from audit.links import register_object_page
        from audit.recorder import audit_track

        from .models import Environment
        from .services import environment_snapshot

        register_object_page(ObjectType.ENVIRONMENT, "environments.Environment")
        # Every change to an environment is an audit event, whatever path made it (admin site included).
        audit_track(Environment, object_type=ObjectType.ENVIRONMENT, action=AuditAction.ENVIRONMENT_CHANGED,
                    snapshot=environment_snapshot, environment=lambda environment: environment)
