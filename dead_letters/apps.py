from django.apps import AppConfig


class DeadLettersConfig(AppConfig):
    name = "dead_letters"
    verbose_name = "Dead-letter queues (depth, peek, redrive)"
