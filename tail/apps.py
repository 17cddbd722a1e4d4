from django.apps import AppConfig


class TailConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tail"
    verbose_name = "Live tail and test events"

    def ready(self):
        from environments import demo

        from .demo import demo_orders_rule_seed

        demo.seed_register(demo_orders_rule_seed)
