"""Discover now on the environment page, and the panel that shows the run, through the Django test client."""
import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from environments import aws
from inventory.discovery import run_start
from inventory.models import DiscoveryRun, RunState

pytestmark = [pytest.mark.aws]


def test_the_environment_page_loads_the_panel(client_for, environment):
    page = client_for("viewer").get(reverse("environments:environment_detail", args=[environment.pk]))
    panel = reverse("inventory:discovery_panel", args=[environment.pk])
    assert page.status_code == 200
    assert f'hx-get="{panel}" hx-trigger="load"' in page.content.decode()
    fragment = client_for("viewer").get(panel).content.decode()
    assert "Not discovered yet." in fragment
    assert 'data-testid="discover-now"' not in fragment  # a viewer may look, not start one


def test_discover_now_runs_in_a_worker_and_the_panel_shows_the_result(client_for, environment, apply_inline):
    events = aws.client(environment, "events")
    events.put_rule(Name="by-hand.1", EventPattern=json.dumps({"source": ["x"]}))
    aws.client(environment, "scheduler").create_schedule(
        Name="by_hand-2", ScheduleExpression="rate(1 hour)", FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": "arn:aws:sqs:us-east-1:123456789012:q", "RoleArn": "arn:aws:iam::123456789012:role/r"})
    operator = client_for("operator")
    panel_url = reverse("inventory:discovery_panel", args=[environment.pk])
    assert 'data-testid="discover-now"' in operator.get(panel_url).content.decode()

    response = operator.post(reverse("inventory:discovery_start", args=[environment.pk]), follow=True)

    assert response.redirect_chain[-1][0] == reverse("environments:environment_detail", args=[environment.pk])
    assert "Discovery of Sandbox started" in " ".join(str(m) for m in response.context["messages"])
    run = DiscoveryRun.objects.get()
    assert run.state == RunState.SUCCEEDED, run.error
    assert run.requested_by.username == "operator"
    panel = operator.get(panel_url).content.decode()
    assert "every 1s" not in panel  # finished: no more polling
    assert "Succeeded" in panel
    assert '<dd class="col-sm-7" data-testid="discovery-found">2 (1 rule, 1 schedule)</dd>' in panel
    rules = reverse("rules:rule_list") + f"?managed=unmanaged&amp;environment={environment.pk}"
    schedules = reverse("schedules:schedule_list") + f"?managed=unmanaged&amp;environment={environment.pk}"
    assert f'<a href="{rules}">Unmanaged rules (1)</a>' in panel
    assert f'<a href="{schedules}">Unmanaged schedules (1)</a>' in panel


def test_a_running_discovery_is_polled_every_second_and_blocks_a_second_one(client_for, environment, users):
    run = run_start(environment, requested_by=users["operator"])  # waiting for a worker
    operator = client_for("operator")
    panel = operator.get(reverse("inventory:discovery_panel", args=[environment.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in panel and "Waiting for a worker" in panel
    assert 'data-testid="discover-now"' not in panel

    response = operator.post(reverse("inventory:discovery_start", args=[environment.pk]), follow=True)

    assert "already running" in " ".join(str(m) for m in response.context["messages"])
    assert list(DiscoveryRun.objects.values_list("pk", flat=True)) == [run.pk]


@pytest.mark.django_db
def test_only_who_may_submit_in_the_environment_starts_a_discovery(client_for, environment):
    for role in ("viewer", "reviewer"):
        response = client_for(role).post(reverse("inventory:discovery_start", args=[environment.pk]))
        assert response.status_code == 403
    assert not DiscoveryRun.objects.exists()


def test_a_discovery_whose_worker_died_is_said_and_discover_now_starts_again(client_for, environment, users, settings):
    dead = run_start(environment, requested_by=users["operator"])
    long_ago = timezone.now() - timedelta(seconds=settings.DISCOVERY_STALE_SECONDS + 5)
    DiscoveryRun.objects.filter(pk=dead.pk).update(heartbeat=long_ago)
    operator = client_for("operator")
    panel = operator.get(reverse("inventory:discovery_panel", args=[environment.pk])).content.decode()
    assert 'data-testid="discovery-stalled"' in panel and "every 1s" not in panel
    assert 'data-testid="discover-now"' in panel

    operator.post(reverse("inventory:discovery_start", args=[environment.pk]))

    assert DiscoveryRun.objects.get(pk=dead.pk).state == RunState.INTERRUPTED
    assert DiscoveryRun.objects.latest("id").pk != dead.pk
