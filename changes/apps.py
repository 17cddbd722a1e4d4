from django.apps import AppConfig


class ChangesConfig(AppConfig):
    name = "changes"
    verbose_name = "Change requests"

    def ready(self):
        from audit.choices import ObjectType
        from audit.links import register_object_page

        register_object_page(ObjectType.CHANGE, "changes.ChangeRequest")
        # Registers the Celery tasks in every process (changes.dispatch sends them by name).
        from . import tasks  # noqa: F401
