from django.apps import AppConfig


class EnvironmentsConfig(AppConfig):
    name = "environments"
    verbose_name = "AWS environments"

    def ready(self):
        from audit.choices import ObjectType
        from audit.links import register_object_page

        register_object_page(ObjectType.ENVIRONMENT, "environments.Environment")
