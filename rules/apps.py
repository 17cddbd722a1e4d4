from django.apps import AppConfig


class RulesConfig(AppConfig):
    name = "rules"
    verbose_name = "EventBridge rules"

    def ready(self):
        from changes.kinds import Kind, register

        register(Kind(name="rule", label="Rule", model="rules.Rule", module="rules.kind", url_namespace="rules",
                      change_field="rule", first_step="detail", container_field="event_bus_name", cloudformation_type="AWS::Events::Rule"))
