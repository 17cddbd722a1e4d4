"""Every "Create rule" / "Create schedule" starts in the same environment: one that is not production (here
"Sandbox", although "Production" comes first by name), in the lists' Create picker (which has a visible
label), in the first step of both flows, and when no environment is posted at all."""
import re

import pytest
from django.urls import reverse

from accounts.services import user_set_environment_roles
from changes.models import ChangeRequest
from environments.models import Environment

pytestmark = [pytest.mark.django_db, pytest.mark.aws]

LISTS = [("rules:rule_list", "rules:rule_add", "rule"),
         ("schedules:schedule_list", "schedules:schedule_add", "schedule")]


@pytest.fixture
def staging(db, aws_url):
    """A second environment that is not production, later by name than Sandbox."""
    return Environment.objects.create(name="Staging", region="us-west-2", endpoint_url=aws_url,
                                      account_id="123456789012", approvals_required=0)


def create_picker(html: str, kind: str) -> tuple[str, list[tuple[str, str, bool]]]:
    """The Create picker's visible label and its options as (value, text, selected)."""
    label = re.search(rf'<label for="new-{kind}-environment"[^>]*>(.*?)</label>', html, re.S).group(1)
    select = re.search(rf'<select name="environment" id="new-{kind}-environment".*?</select>', html, re.S).group(0)
    options = [(value, text, bool(selected)) for value, selected, text in
               re.findall(r'<option value="(\d+)"( selected)?>([^<]*)</option>', select)]
    return label, options


@pytest.mark.parametrize(("list_url", "add_url", "kind"), LISTS)
def test_the_lists_create_picker_starts_at_a_sandbox_and_is_labelled(client_for, environment, production, staging,
                                                                     list_url, add_url, kind):
    html = client_for("operator").get(reverse(list_url)).content.decode()
    label, options = create_picker(html, kind)
    assert label.startswith("Environment")  # seen on the page, not only read by screen readers
    assert [text for _, text, _ in options] == ["Sandbox", "Staging", "Production"]
    assert [text for _, text, selected in options if selected] == ["Sandbox"]


@pytest.mark.parametrize(("list_url", "add_url", "kind"), LISTS)
def test_a_create_with_no_environment_posted_starts_in_the_sandbox(client_for, environment, production,
                                                                    list_url, add_url, kind):
    client = client_for("operator")
    response = client.post(reverse(add_url), {})
    assert response.status_code == 302
    draft = ChangeRequest.objects.get(kind=kind)
    assert draft.environment == environment
    # and its first step offers the same environments in the same order, at the sandbox
    form = client.get(response["Location"]).context["form"]
    assert [e.name for e in form.fields["environment"].queryset] == ["Sandbox", "Production"]
    assert form["environment"].value() == environment.pk


def test_an_operator_only_in_production_gets_production(client_for, users, environment, production):
    operator = users["operator"]
    operator.groups.clear()
    user_set_environment_roles(user=operator, environment=production, roles=["Operators"])
    html = client_for("operator").get(reverse("schedules:schedule_list")).content.decode()
    _, options = create_picker(html, "schedule")
    assert [(text, selected) for _, text, selected in options] == [("Production", True)]
