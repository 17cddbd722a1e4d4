from django.apps import AppConfig


class SchedulesConfig(AppConfig):
    name = "schedules"
    verbose_name = "EventBridge Scheduler schedules"

    def ready(self):
        from changes.kinds import Kind, register

        register(Kind(name="schedule", label="Schedule", model="schedules.Schedule", module="schedules.kind",
                      url_namespace="schedules", change_field="schedule", first_step="detail", container_field="group_name",
                      cloudformation_type="AWS::Scheduler::Schedule"))
