"""The permission matrix: every page and action, for each role (anonymous is covered by
test_urls_require_login). Allowed means the request is not refused (200, or a redirect after doing it);
refused means 403 and nothing changed."""
import json

import pytest
from django.urls import reverse

from changes import services
from changes.choices import ChangeState
from changes.models import ChangeRequest
from environments.models import Environment
from audit.models import AuditEvent
from rules.models import Rule
from schedules.models import Schedule

pytestmark = pytest.mark.django_db

ALL = ("operator", "reviewer", "viewer", "admin")
EDITORS = ("operator", "admin")
REVIEWERS = ("reviewer", "admin")
SPEC = {"Rule": {"Name": "r", "EventBusName": "default", "State": "ENABLED", "EventPattern": '{"source":["x"]}'},
        "Targets": [{"Id": "T1", "Arn": "arn:aws:sqs:us-east-1:123456789012:q"}], "Tags": []}


@pytest.fixture
def objects(users):
    environment = Environment.objects.create(name="Offline", region="us-east-1", endpoint_url="http://127.0.0.1:9",
                                             approvals_required=1)
    rule = Rule.objects.create(environment=environment, name="r", desired_spec=SPEC, version=1, state="ENABLED")
    submitted = ChangeRequest.objects.create(kind="rule", action="update", environment=environment, rule=rule,
                                             author=users["operator"], spec=SPEC, state=ChangeState.SUBMITTED,
                                             object_name=rule.object_name)
    draft = services.change_request_draft_create(kind="rule", action="create", environment=environment,
                                                 author=users["operator"], spec={})
    schedule_spec = {"Name": "s", "GroupName": "default", "ScheduleExpression": "cron(0 23 * * ? *)",
                     "ScheduleExpressionTimezone": "UTC", "FlexibleTimeWindow": {"Mode": "OFF"}, "State": "ENABLED",
                     "Target": {"Arn": "arn:aws:sqs:us-east-1:123456789012:q",
                                "RoleArn": "arn:aws:iam::123456789012:role/r"}}
    schedule = Schedule.objects.create(environment=environment, name="s", desired_spec=schedule_spec, version=1,
                                       state="ENABLED", expression="cron(0 23 * * ? *)", timezone="UTC")
    schedule_draft = services.change_request_draft_create(kind="schedule", action="create", environment=environment,
                                                          author=users["operator"], spec={})
    event = AuditEvent.objects.order_by("-id").first()
    return {"environment": environment, "rule": rule, "change": submitted, "draft": draft, "schedule": schedule,
            "schedule_draft": schedule_draft, "event": event}


MATRIX = [
    # (what, method, url name, args from objects, data, roles allowed)
    ("rule list", "get", "rules:rule_list", [], None, ALL),
    ("rule detail", "get", "rules:rule_detail", ["rule"], None, ALL),
    ("sandbox", "get", "rules:sandbox", [], None, ALL),
    ("sandbox test", "post", "rules:sandbox", [], {"sample_key": "s3-object-created", "pattern": '{"source":["x"]}'}, ALL),
    ("which rules match", "post", "rules:event_match", [], {"sample_key": "s3-object-created"}, ALL),
    ("create rule", "post", "rules:rule_add", [], {"environment": "environment"}, EDITORS),
    ("edit rule", "post", "rules:rule_action", ["rule", "edit"], {}, EDITORS),
    ("clone rule", "post", "rules:rule_action", ["rule", "clone"], {}, EDITORS),
    ("delete confirmation", "get", "rules:rule_delete", ["rule"], None, EDITORS),
    ("draft step (author only)", "get", "rules:draft_step", ["draft", "detail"], None, ("operator",)),
    ("discard draft", "post", "rules:draft_discard", ["draft"], {}, EDITORS),
    ("review queue", "get", "changes:review_list", [], None, ALL),
    ("change page", "get", "changes:change_detail", ["change"], None, ALL),
    ("approve", "post", "changes:change_action", ["change", "approve"], {"reason": "ok"}, REVIEWERS),
    ("reject", "post", "changes:change_action", ["change", "reject"], {"reason": "no"}, REVIEWERS),
    ("withdraw", "post", "changes:change_action", ["change", "withdraw"], {}, EDITORS),
    ("comment", "post", "changes:change_action", ["change", "comment"], {"body": "hi"}, ("operator", "reviewer", "admin")),
    ("schedule list", "get", "schedules:schedule_list", [], None, ALL),
    ("upcoming runs", "get", "schedules:upcoming", [], None, ALL),
    ("schedule detail", "get", "schedules:schedule_detail", ["schedule"], None, ALL),
    ("create schedule", "post", "schedules:schedule_add", [], {"environment": "environment"}, EDITORS),
    ("edit schedule", "post", "schedules:schedule_action", ["schedule", "edit"], {}, EDITORS),
    ("clone schedule", "post", "schedules:schedule_action", ["schedule", "clone"], {}, EDITORS),
    ("schedule delete confirmation", "get", "schedules:schedule_delete", ["schedule"], None, EDITORS),
    ("schedule draft step (author only)", "get", "schedules:draft_step", ["schedule_draft", "detail"], None,
     ("operator",)),
    ("audit list", "get", "audit:event_list", [], None, ALL),
    ("audit event", "get", "audit:event_detail", ["event"], None, ALL),
    ("rule history", "get", "audit:object_history", ["rule-type", "rule"], None, ALL),
    ("environment list", "get", "environments:environment_list", [], None, ALL),
    ("add environment", "get", "environments:environment_add", [], None, ("admin",)),
    ("admin site", "get", "admin:index", [], None, ("admin",)),
]


def _args(objects, names):
    return [objects[n].pk if n in objects else n.removesuffix("-type") for n in names]


@pytest.mark.parametrize("role", ALL)
@pytest.mark.parametrize(("what", "method", "name", "args", "data", "allowed"), MATRIX, ids=[m[0] for m in MATRIX])
def test_permission_matrix(client_for, objects, role, what, method, name, args, data, allowed):
    url = reverse(name, args=_args(objects, args))
    if data:
        data = {k: objects[v].pk if v in objects else v for k, v in data.items()}
    before = (ChangeRequest.objects.count(), list(ChangeRequest.objects.values_list("state", flat=True)))
    # Pages are followed through redirects (the admin site sends non-staff to its sign-in, which refuses them).
    response = getattr(client_for(role), method)(url, data or {}, follow=method == "get")
    if role in allowed:
        assert response.status_code in (200, 302), f"{role} should be able to {what}: {response.status_code}"
    else:
        assert response.status_code == 403, f"{role} must not {what}: got {response.status_code}"
        after = (ChangeRequest.objects.count(), list(ChangeRequest.objects.values_list("state", flat=True)))
        assert after == before, f"a refused {what} by {role} changed something"


def test_an_operator_cannot_approve_even_through_the_url(client_for, objects):
    response = client_for("operator").post(reverse("changes:change_action", args=[objects["change"].pk, "approve"]))
    assert response.status_code == 403
    objects["change"].refresh_from_db()
    assert objects["change"].state == ChangeState.SUBMITTED


def test_the_author_is_told_when_approving_their_own_change_as_admin(client_for, users, objects):
    change = objects["change"]
    change.author = users["admin"]
    change.save()
    response = client_for("admin").post(reverse("changes:change_action", args=[change.pk, "approve"]), follow=True)
    assert "You cannot approve your own change." in [str(m) for m in response.context["messages"]]
    change.refresh_from_db()
    assert change.state == ChangeState.SUBMITTED
