from django.apps import AppConfig


class DeadLettersConfig(AppConfig):
    name = "dead_letters"
    verbose_name = "Dead-letter queues (depth, peek, redrive)"

    def ready(self):
        from changes.batch import register_item_applier
        from changes.choices import ChangeAction

        from .redrive import redrive_apply

        register_item_applier(ChangeAction.REDRIVE, redrive_apply)
