"""The live pattern preview of Build event pattern: a choice still to be made is not shown as an error.

Issue 13: picking "Specific bucket(s) by name" showed "Enter at least one value…" before anything was typed.
The preview (asked for at every change) says what it waits for; Next shows the error at the field."""
import pytest
from django.urls import reverse

from tests.rules import flow

pytestmark = [pytest.mark.django_db, pytest.mark.aws]


def preview(operator, draft, **fields):
    data = {**flow.worked_example_pattern_form(), **{f"pattern-{k}": v for k, v in fields.items()}}
    return operator.post(reverse("rules:pattern_preview", args=[draft]), data).content.decode()


@pytest.fixture
def draft(operator, environment):
    draft = flow.start(operator, environment)
    flow.post(operator, draft, "detail", flow.detail(environment))
    return draft


def test_specific_buckets_picked_with_no_name_typed_shows_no_error(operator, draft):
    html = preview(operator, draft, f_bucket_values="")
    assert "Enter at least one value" not in html
    assert "The pattern appears here once Specific bucket(s) by name is filled in." in html


def test_a_name_typed_shows_the_pattern(operator, draft):
    html = preview(operator, draft, f_bucket_values="processing-bucket-1")
    assert "&quot;processing-bucket-1&quot;" in html
    assert "The pattern appears here" not in html


def test_specific_events_picked_with_none_ticked_waits_too(operator, draft):
    html = preview(operator, draft, detail_types=[])
    assert "Choose at least one event" not in html
    assert "once Specific event(s) is filled in" in html


def test_next_still_shows_the_error_at_the_field(operator, draft):
    data = {**flow.worked_example_pattern_form(), "pattern-f_bucket_values": ""}
    response = flow.post(operator, draft, "pattern", data)
    assert response.status_code == 200
    assert response.context["form"].errors["f_bucket_values"] == ["Enter at least one value, or choose Any bucket."]


def test_an_error_that_is_not_a_missing_choice_is_still_shown(operator, draft):
    data = {"pattern-event_source": "aws", "pattern-creation_method": "json", "pattern-pattern_json": "{oops"}
    html = operator.post(reverse("rules:pattern_preview", args=[draft]), data).content.decode()
    assert "invalid JSON" in html
