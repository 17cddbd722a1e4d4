"""Helpers that drive the schedule flow through the Django test client, step by step."""
from __future__ import annotations

from django.urls import reverse

ROLE = "EventBridge_EC2_Startinstance_Role"
CRON_2300 = ("0", "23", "*", "*", "?", "*")


def start(client, environment) -> int:
    response = client.post(reverse("schedules:schedule_add"), {"environment": environment.pk})
    assert response.status_code == 302, response
    return int(response["Location"].rstrip("/").split("/")[-2])


def step_url(draft: int, step: str) -> str:
    return reverse("schedules:draft_step", args=[draft, step])


def post(client, draft: int, step: str, data: dict, go: str = "next"):
    return client.post(step_url(draft, step), {**data, "_go": go})


def detail(environment, name="Start_batch_server_11PM", cron=CRON_2300, zone="Europe/London", **extra) -> dict:
    data = {"environment": environment.pk, "name": name, "description": "", "group": "default", "new_group": "",
            "occurrence": "recurring", "schedule_type": "cron", "timezone": zone, "flexible_window": "OFF",
            "rate_value": "5", "rate_unit": "minutes", "at_date": "", "at_time": "", "start_date": "",
            "start_time": "", "end_date": "", "end_time": "", "flexible_custom": ""}
    data.update(dict(zip(("minutes", "hours", "day_of_month", "month", "day_of_week", "year"), cron)))
    data.update(extra)
    return {f"detail-{k}": v for k, v in data.items()}


def universal(service="ec2", action="startInstances", input_text="{}", **extra) -> dict:
    data = {"target_api": "universal", "templated": "lambda", "resource": "", "resource_arn": "",
            "service": service, "action": action, "input": input_text}
    data.update(extra)
    return {f"target-{k}": v for k, v in data.items()}


def templated(kind: str, arn: str, input_text: str = "", **extra) -> dict:
    data = {"target_api": "templated", "templated": kind, "resource": arn, "resource_arn": "", "service": "",
            "action": "", "input": input_text}
    data.update(extra)
    return {f"target-{k}": v for k, v in data.items()}


def settings(role_choice: str, *, retry: bool = True, enabled: bool = True, **extra) -> dict:
    data = {"action_after_completion": "NONE", "max_age_hours": "24", "max_age_minutes": "0", "max_retries": "185",
            "dlq_mode": "none", "dlq_queue": "", "dlq_arn": "", "kms_key_arn": "", "role_mode": "existing",
            "role": role_choice, "role_arn": ""}
    if retry:
        data["retry"] = "on"
    if enabled:
        data["enabled"] = "on"
    data.update(extra)
    return {f"settings-{k}": v for k, v in data.items() if v is not None}


def role_arn(account: str = "123456789012", name: str = ROLE) -> str:
    return f"arn:aws:iam::{account}:role/{name}"


def create(client, environment, *, detail_data: dict, target_data: dict, settings_data: dict) -> int:
    """The whole flow, asserting each step moves on; returns the draft (change) id."""
    draft = start(client, environment)
    for step, data, following in (("detail", detail_data, "/target/"), ("target", target_data, "/settings/"),
                                  ("settings", settings_data, "/review/")):
        response = post(client, draft, step, data)
        assert response.status_code == 302 and response["Location"].endswith(following), (
            step, response.context and response.context["form"].errors)
    response = client.post(step_url(draft, "review"), {"_go": "submit"})
    assert response.status_code == 302, response.context and response.context.get("spec_errors")
    return draft
