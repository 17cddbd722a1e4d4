"""Helpers that drive the rule flow through the Django test client, step by step."""
from __future__ import annotations

from django.urls import reverse

WORKED_EXAMPLE_PATTERN = {"source": ["aws.s3"], "detail-type": ["Object Created"],
                          "detail": {"bucket": {"name": ["processing-bucket-1"]}}}


def start(client, environment) -> int:
    response = client.post(reverse("rules:rule_add"), {"environment": environment.pk})
    assert response.status_code == 302, response
    return int(response["Location"].rstrip("/").split("/")[-2])


def step_url(draft: int, step: str) -> str:
    return reverse("rules:draft_step", args=[draft, step])


def post(client, draft: int, step: str, data: dict, go: str = "next"):
    return client.post(step_url(draft, step), {**data, "_go": go})


def detail(environment, name="process-s3-objects-with-lambda", **extra) -> dict:
    data = {"detail-environment": environment.pk, "detail-name": name, "detail-description": "",
            "detail-event_bus": "default", "detail-enabled": "on", "detail-rule_type": "pattern"}
    data.update({f"detail-{k}": v for k, v in extra.items()})
    return data


def worked_example_pattern_form() -> dict:
    return {"pattern-event_source": "aws", "pattern-sample_type": "aws", "pattern-sample_key": "s3-object-created",
            "pattern-creation_method": "form", "pattern-service": "s3", "pattern-event_type": "s3-notification",
            "pattern-detail_type_mode": "specific", "pattern-detail_types": ["Object Created"],
            "pattern-f_bucket_mode": "specific", "pattern-f_bucket_values": "processing-bucket-1"}


def target(index: int, picked: str, kind: str = "lambda", **extra) -> dict:
    """One target's fields: `picked` is the ARN chosen in the picker; pass arn=... to type one instead."""
    data = {"target_type": kind, "resource": picked, "arn": "", "target_id": "", "input_mode": "matched",
            "max_age": "24:00", "retry_attempts": "185", "dlq_mode": "none"}
    data.update(extra)
    return {f"targets-{index}-{k}": v for k, v in data.items()}


def targets(*entries: dict) -> dict:
    data = {"targets-TOTAL_FORMS": str(len(entries)), "targets-INITIAL_FORMS": "0",
            "targets-MIN_NUM_FORMS": "1", "targets-MAX_NUM_FORMS": "5"}
    for entry in entries:
        data.update(entry)
    return data


def tags(**pairs: str) -> dict:
    data = {"tags-TOTAL_FORMS": str(len(pairs)), "tags-INITIAL_FORMS": "0", "tags-MIN_NUM_FORMS": "0",
            "tags-MAX_NUM_FORMS": "50"}
    for index, (key, value) in enumerate(pairs.items()):
        data.update({f"tags-{index}-key": key, f"tags-{index}-value": value})
    return data
