from django.apps import AppConfig


class TailConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tail"
    verbose_name = "Live tail and test events"

    def ready(self):
        from audit.choices import ObjectType
        from audit.links import register_object_page
        from environments import demo

        from .demo import demo_orders_rule_seed

        demo.seed_register(demo_orders_rule_seed)
        register_object_page(ObjectType.TAIL, "tail.TailSession")
        # Registers the Celery tasks in every process (tail.services sends them by name).
        from . import tasks  # noqa: F401
