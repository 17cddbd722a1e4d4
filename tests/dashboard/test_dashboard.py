"""The dashboard answers "what needs me?" for each role (issue 13): changes waiting for my review, oldest
first; my drafts and my changes waiting or failed; failed applies; drifted or missing objects; schedules
running in the next 24 hours; per environment, rules and schedules by status. Only what the person may
see, in a number of queries that does not grow with the data."""
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.roles import REVIEWERS
from accounts.services import user_create, user_set_environment_roles
from changes import services
from changes.choices import ChangeState, SyncStatus
from changes.models import ChangeRequest
from rules.models import Rule
from schedules.models import Schedule
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

SPEC = {"Rule": {"Name": "r", "EventBusName": "default", "State": "ENABLED", "EventPattern": '{"source":["x"]}'},
        "Targets": [{"Id": "T1", "Arn": "arn:aws:sqs:eu-west-1:123456789012:q"}], "Tags": []}


def rule_spec(name: str) -> dict:
    return {**SPEC, "Rule": {**SPEC["Rule"], "Name": name}}


def submitted(author, environment, name: str) -> ChangeRequest:
    change = services.change_request_draft_create(kind="rule", action="create", environment=environment,
                                                  author=author, spec=rule_spec(name))
    services.change_request_submit(change, actor=author)
    return change


def page(client):
    response = client.get(reverse("dashboard:dashboard"))
    assert response.status_code == 200
    return response


def test_the_reviewer_sees_what_waits_for_them_oldest_first_with_a_link_to_each(users, production, client_for):
    first = submitted(users["operator"], production, "first")
    second = submitted(users["operator"], production, "second")
    ChangeRequest.objects.filter(pk=first.pk).update(submitted_at=timezone.now() - timedelta(hours=3))
    ChangeRequest.objects.filter(pk=second.pk).update(submitted_at=timezone.now() - timedelta(minutes=5))
    done = submitted(users["operator"], production, "already-reviewed")
    services.change_request_approve(done, reviewer=users["reviewer"])

    response = page(client_for("reviewer"))
    board = response.context["board"]
    assert [c.object_name for c in board.reviewing.items] == ["default/first", "default/second"]
    html = response.content.decode()
    assert f'href="/reviews/{first.pk}/"' in html
    assert "waiting 3\xa0hours" in html
    assert 'href="/reviews/?waiting=true"' in html
    # the reviewer submits nowhere: no "my changes" card
    assert board.mine is None and 'data-testid="my-changes"' not in html


def test_nothing_of_their_own_waits_for_a_reviewer(users, production, client_for):
    other = user_create(username="reviewer2", password=PASSWORD, roles=[REVIEWERS])
    submitted(users["admin"], production, "by-admin")
    assert page(client_for("admin")).context["board"].reviewing.items == []
    client = client_for("operator")
    client.force_login(other)
    assert [c.object_name for c in page(client).context["board"].reviewing.items] == ["default/by-admin"]


def test_the_operator_sees_their_drafts_and_their_changes_waiting_or_failed(users, production, environment,
                                                                           client_for):
    draft = services.change_request_draft_create(kind="rule", action="create", environment=production,
                                                 author=users["operator"], spec=rule_spec("draft-one"))
    waiting = submitted(users["operator"], production, "waiting-one")
    failed = submitted(users["operator"], production, "failed-one")
    ChangeRequest.objects.filter(pk=failed.pk).update(state=ChangeState.FAILED, last_error="AccessDenied: no")
    submitted(users["admin"], production, "not-mine")

    response = page(client_for("operator"))
    board = response.context["board"]
    assert {c.pk for c in board.mine.items} == {draft.pk, waiting.pk, failed.pk}
    assert board.mine_by_state == {"draft": 1, "submitted": 1, "failed": 1}
    html = response.content.decode()
    assert f'href="/rules/drafts/{draft.pk}/review/"' in html  # a draft is continued in its flow
    assert f'href="/reviews/{waiting.pk}/"' in html
    assert "1 draft · 1 submitted · 1 failed" in html
    # the operator reviews nowhere: no "waiting for my review" card
    assert board.reviewing is None
    # failed applies, for everyone who may read the environment
    assert [c.pk for c in board.failed.items] == [failed.pk]
    assert "AccessDenied: no" in html


def test_drifted_and_missing_objects_and_the_counts_per_environment(users, environment, production, client_for):
    for name, status in [("a", SyncStatus.IN_SYNC), ("b", SyncStatus.IN_SYNC), ("c", SyncStatus.DRIFTED),
                         ("d", SyncStatus.MISSING)]:
        Rule.objects.create(environment=environment, name=name, sync_status=status)
    Rule.objects.create(environment=production, name="p", sync_status=SyncStatus.IN_SYNC)
    Schedule.objects.create(environment=production, name="s", sync_status=SyncStatus.DRIFTED)

    response = page(client_for("viewer"))
    board = response.context["board"]
    drifted = {kind.name: sorted(o.name for o in section.items) for kind, section in board.drifted}
    assert drifted == {"rule": ["c", "d"], "schedule": ["s"]}
    counts = {(row.environment.name, k.label): (k.total, {s[0]: s[3] for s in k.statuses})
              for row in board.counts for k in row.kinds}
    assert counts == {("Sandbox", "Rules"): (4, {"in_sync": 2, "drifted": 1, "missing": 1}),
                      ("Sandbox", "Schedules"): (0, {}),
                      ("Production", "Rules"): (1, {"in_sync": 1}),
                      ("Production", "Schedules"): (1, {"drifted": 1})}
    html = response.content.decode()
    assert f'href="/rules/?environment={environment.pk}&amp;status=drifted&amp;managed=all"' in html
    assert "2 in sync" in html and "1 missing in aws" in html
    # a viewer neither reviews nor submits
    assert board.reviewing is None and board.mine is None


def test_schedules_running_in_the_next_24_hours(users, environment, client_for):
    now = timezone.now()

    def schedule(name, *, next_run, expression="rate(1 hour)", state="ENABLED"):
        return Schedule.objects.create(environment=environment, name=name, state=state, expression=expression,
                                       timezone="UTC", next_run=next_run, sync_status=SyncStatus.IN_SYNC)

    schedule("soon", next_run=now + timedelta(hours=2))
    schedule("later", next_run=now + timedelta(hours=30), expression="rate(3 days)")
    schedule("disabled", next_run=now + timedelta(hours=1), state="DISABLED")
    # polled ten minutes ago: its stored run has passed; an hourly schedule still runs within the day
    schedule("hourly-stale", next_run=now - timedelta(minutes=10))
    # a one-time schedule whose time has passed runs no more
    schedule("once-passed", next_run=now - timedelta(hours=2), expression="at(2020-01-01T00:00:00)")

    response = page(client_for("viewer"))
    board = response.context["board"]
    names = [s.name for s in board.upcoming.items]
    assert sorted(names) == ["hourly-stale", "soon"]
    assert all(now < s.upcoming_run <= now + timedelta(hours=24) for s in board.upcoming.items)
    assert board.upcoming.total == 2
    assert 'Schedules running in the next 24 hours <span class="badge text-bg-secondary">2</span>' in \
        response.content.decode()


def test_the_next_24_hours_list_shows_ten_and_says_how_many_more(users, environment, client_for):
    now = timezone.now()
    for n in range(13):  # one every hour; the 13th is after the day
        Schedule.objects.create(environment=environment, name=f"hourly-{n:02d}", state="ENABLED",
                                expression="rate(1 day)", timezone="UTC", sync_status=SyncStatus.IN_SYNC,
                                next_run=now + timedelta(hours=2 * n + 1))
    response = page(client_for("viewer"))
    board = response.context["board"]
    assert [s.name for s in board.upcoming.items] == [f"hourly-{n:02d}" for n in range(10)]
    assert board.upcoming.total == 12  # 1 h, 3 h … 23 h; the one at 25 h is not in the next 24 hours
    html = response.content.decode()
    assert "See all upcoming runs (2 more schedules)" in html


def test_only_the_environments_a_person_may_read(users, environment, production, client_for):
    Rule.objects.create(environment=production, name="prod-drift", sync_status=SyncStatus.DRIFTED)
    Rule.objects.create(environment=environment, name="sandbox-drift", sync_status=SyncStatus.DRIFTED)
    failed = submitted(users["operator"], production, "prod-failed")
    ChangeRequest.objects.filter(pk=failed.pk).update(state=ChangeState.FAILED)
    scoped = user_create(username="sandbox-only", password=PASSWORD, roles=[])
    user_set_environment_roles(user=scoped, environment=environment, roles=[REVIEWERS])
    submitted(users["operator"], production, "prod-waiting")

    client = client_for("viewer")
    client.force_login(scoped)
    board = page(client).context["board"]
    assert [e.name for e in board.environments] == ["Sandbox"]
    assert [o.name for kind, section in board.drifted for o in section.items] == ["sandbox-drift"]
    assert board.failed.items == [] and board.reviewing.items == []
    assert [row.environment.name for row in board.counts] == ["Sandbox"]


def test_the_number_of_queries_does_not_grow_with_the_data(users, environment, production, client_for):
    client = client_for("admin")

    def seed(count: int, offset: int):
        for i in range(offset, offset + count):
            Rule.objects.create(environment=environment, name=f"r{i}",
                                sync_status=SyncStatus.DRIFTED if i % 2 else SyncStatus.IN_SYNC)
            Schedule.objects.create(environment=production, name=f"s{i}", state="ENABLED", expression="rate(1 hour)",
                                    next_run=timezone.now() + timedelta(minutes=i + 1), sync_status=SyncStatus.IN_SYNC)
            submitted(users["operator"], production, f"c{i}")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            page(client)
        return len(captured)

    seed(2, 0)
    few = queries()
    seed(25, 2)
    assert queries() == few
