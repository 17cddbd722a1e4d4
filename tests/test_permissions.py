"""The permission matrix: every page and action, for each role (anonymous is covered by
test_urls_require_login). Allowed means the request is served (200, or a redirect after doing it) and
never ends on a sign-in page or the "you have no role" page; refused means 403 and nothing changed."""
from urllib.parse import urlsplit

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
    ("schedule run now confirmation", "get", "schedules:schedule_run", ["schedule"], None, EDITORS),
    ("schedule draft step (author only)", "get", "schedules:draft_step", ["schedule_draft", "detail"], None,
     ("operator",)),
    ("audit list", "get", "audit:event_list", [], None, ALL),
    ("audit event", "get", "audit:event_detail", ["event"], None, ALL),
    ("rule history", "get", "audit:object_history", ["rule-type", "rule"], None, ALL),
    ("environment list", "get", "environments:environment_list", [], None, ALL),
    ("add environment", "get", "environments:environment_add", [], None, ("admin",)),
    ("admin site", "get", "admin:index", [], None, ("admin",)),
    ("refresh metrics", "post", "metrics:refresh", ["environment"], {}, ALL),
    ("schedule group metrics", "get", "metrics:schedule_group", ["environment", "default"], None, ALL),
]


def assert_served(response, why: str) -> None:
    """A 200 or a redirect that is the action's own, not a sign-in page or the no-role page in disguise."""
    sign_in_pages = {reverse("login"), reverse("admin:login")}
    hops = [url for url, _ in getattr(response, "redirect_chain", [])]
    if response.status_code == 302:
        hops.append(response["Location"])
    for url in hops:
        assert urlsplit(url).path not in sign_in_pages, f"{why}: sent to sign in ({url})"
    if response.status_code == 200:
        assert "accounts/no_role.html" not in [t.name for t in response.templates], f"{why}: no-role page"


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
        assert_served(response, f"{role} should be able to {what}")
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


# ---------------------------------------------------------------------------------------------
# Roles granted in one environment only
# ---------------------------------------------------------------------------------------------
# The specification (README's roles table, docs/access.md), written out here as the oracle:
# what each role may do, and who holds which role where. A grant counts in its environment only.
CAN = {
    "Operators": {"view", "submit", "test"},
    "Reviewers": {"view", "review", "test"},
    "Viewers": {"view"},
    "Admins": {"view", "submit", "review", "test", "manage"},
}
SCOPED = {  # user: (role, environment key)
    "sandbox_operator": ("Operators", "sandbox"),
    "production_reviewer": ("Reviewers", "production"),
    "sandbox_viewer": ("Viewers", "sandbox"),
    "production_admin": ("Admins", "production"),
}
ENVS = ("sandbox", "production")


def _may(user: str, capability: str, env: str) -> bool:
    role, where = SCOPED[user]
    return where == env and capability in CAN[role]


def _rule_spec(name, region):
    return {"Rule": {"Name": name, "EventBusName": "default", "State": "ENABLED", "EventPattern": '{"source":["x"]}'},
            "Targets": [{"Id": "T1", "Arn": f"arn:aws:sqs:{region}:123456789012:q"}], "Tags": []}


def _schedule_spec(name, region):
    return {"Name": name, "GroupName": "default", "ScheduleExpression": "cron(0 23 * * ? *)",
            "ScheduleExpressionTimezone": "UTC", "FlexibleTimeWindow": {"Mode": "OFF"}, "State": "ENABLED",
            "Target": {"Arn": f"arn:aws:sqs:{region}:123456789012:q", "RoleArn": "arn:aws:iam::123456789012:role/r"}}


@pytest.fixture
def scoped(users, environment, production):
    """The four per-environment users, and in each environment a rule, a schedule, a submitted change
    (by the global operator), a failed change and a draft of each scoped user's own."""
    from accounts.services import user_create, user_set_environment_roles
    from audit.services import audit_record

    envs = {"sandbox": environment, "production": production}
    people = {}
    for name, (role, env) in SCOPED.items():
        people[name] = user_create(username=name, password="x-1-long-enough", roles=[])
        user_set_environment_roles(user=people[name], environment=envs[env], roles=[role])
    world = {"envs": envs, "users": people}
    for key, env in envs.items():
        rule = Rule.objects.create(environment=env, name=f"rule-{key}", desired_spec=_rule_spec(f"rule-{key}", env.region),
                                   version=1, state="ENABLED")
        schedule = Schedule.objects.create(environment=env, name=f"sched-{key}", version=1, state="ENABLED",
                                           desired_spec=_schedule_spec(f"sched-{key}", env.region),
                                           expression="cron(0 23 * * ? *)", timezone="UTC")
        submitted = ChangeRequest.objects.create(
            kind="rule", action="update", environment=env, rule=rule, author=users["operator"],
            spec=_rule_spec(f"rule-{key}", env.region), state=ChangeState.SUBMITTED, object_name=f"change-{key}")
        second = ChangeRequest.objects.create(
            kind="rule", action="update", environment=env, rule=rule, author=users["operator"],
            spec=_rule_spec(f"rule-{key}", env.region), state=ChangeState.SUBMITTED, object_name=f"change-{key}")
        world[key] = {"env": env, "rule": rule, "schedule": schedule, "change": submitted, "change2": second,
                      "event": audit_record(action="change.commented", object_type="rule", object_id=rule.pk,
                                            object_repr=f"event-{key}", environment=env, message="x")}
        for name, person in people.items():
            # made directly: a user may hold a draft or a failed change where they have (or no longer have) a role
            world[key][f"draft:{name}"] = ChangeRequest.objects.create(
                kind="rule", action="create", environment=env, author=person, spec={}, object_name=f"draft-{key}")
            world[key][f"failed:{name}"] = ChangeRequest.objects.create(
                kind="rule", action="update", environment=env, rule=rule, author=person, state=ChangeState.FAILED,
                spec=_rule_spec(f"rule-{key}", env.region), object_name=f"failed-{key}")
    return world


def _drafts(w, e, u):
    return ChangeRequest.objects.filter(environment=w[e]["env"], author=w["users"][u]).count()


def _state(obj):
    return lambda w, e, u: type(w[e][obj]).objects.get(pk=w[e][obj].pk).state


def _own_state(prefix):
    return lambda w, e, u: ChangeRequest.objects.get(pk=w[e][f"{prefix}:{u}"].pk).state


# (what, method, url name, args, data, capability, effect) — args/data name objects of the environment
# under test; effect(world, env, user) is read before and after: it changes exactly when allowed.
SCOPED_MATRIX = [
    ("environment page", "get", "environments:environment_detail", ["env"], None, "view", None),
    ("edit environment form", "get", "environments:environment_edit", ["env"], None, "manage", None),
    ("edit environment", "post", "environments:environment_edit", ["env"], "env-form", "manage",
     lambda w, e, u: Environment.objects.get(pk=w[e]["env"].pk).description),
    ("delete environment confirmation", "get", "environments:environment_delete", ["env"], None, "manage", None),
    ("test connection", "post", "environments:environment_test", ["env"], {}, "test", None),
    ("rule page", "get", "rules:rule_detail", ["rule"], None, "view", None),
    ("schedule page", "get", "schedules:schedule_detail", ["schedule"], None, "view", None),
    ("change page", "get", "changes:change_detail", ["change"], None, "view", None),
    ("audit event", "get", "audit:event_detail", ["event"], None, "view", None),
    ("create rule", "post", "rules:rule_add", [], {"environment": "env"}, "submit", _drafts),
    ("create schedule", "post", "schedules:schedule_add", [], {"environment": "env"}, "submit", _drafts),
    ("edit rule", "post", "rules:rule_action", ["rule", "edit"], {}, "submit", _drafts),
    ("clone rule", "post", "rules:rule_action", ["rule", "clone"], {}, "submit", _drafts),
    ("disable rule", "post", "rules:rule_action", ["rule", "disable"], {}, "submit", _drafts),
    ("delete rule", "post", "rules:rule_delete", ["rule"], {}, "submit", _drafts),
    ("rule delete confirmation", "get", "rules:rule_delete", ["rule"], None, "submit", None),
    ("edit schedule", "post", "schedules:schedule_action", ["schedule", "edit"], {}, "submit", _drafts),
    ("schedule delete confirmation", "get", "schedules:schedule_delete", ["schedule"], None, "submit", None),
    ("own draft's first step", "get", "rules:draft_step", ["draft", "detail"], None, "submit", None),
    ("discard own draft", "post", "rules:draft_discard", ["draft"], {}, "submit", _own_state("draft")),
    ("withdraw own change", "post", "changes:change_action", ["failed", "withdraw"], {}, "submit",
     _own_state("failed")),
    ("approve", "post", "changes:change_action", ["change", "approve"], {"reason": "ok"}, "review", _state("change")),
    ("reject", "post", "changes:change_action", ["change2", "reject"], {"reason": "no"}, "review", _state("change2")),
    ("comment", "post", "changes:change_action", ["change", "comment"], {"body": "hi"}, ("submit", "review"),
     lambda w, e, u: w[e]["change"].comments.count()),
]


def _resolve(world, env, user, name):
    if name in ("draft", "failed"):
        return world[env][f"{name}:{user}"].pk
    return world[env][name].pk if name in world[env] else name


@pytest.mark.parametrize("user", sorted(SCOPED))
def test_roles_granted_in_one_environment_hold_there_only(scoped, user):
    """Every row of SCOPED_MATRIX in both environments, in order (reads first, then writes, each on
    objects no earlier row touches), for one user: allowed where granted, 403 and no effect elsewhere."""
    from django.test import Client

    client = Client()
    client.force_login(scoped["users"][user])
    checked = 0
    for what, method, name, args, data, capability, effect in SCOPED_MATRIX:
        for env in ENVS:
            url = reverse(name, args=[_resolve(scoped, env, user, a) for a in args])
            if data == "env-form":
                e = scoped[env]["env"]
                data_ = {"name": e.name, "region": e.region, "account_id": e.account_id,
                         "endpoint_url": e.endpoint_url, "approvals_required": e.approvals_required,
                         "is_production": "on" if e.is_production else "", "description": f"edited by {user}"}
            else:
                data_ = {k: _resolve(scoped, env, user, v) for k, v in (data or {}).items()}
            capabilities = capability if isinstance(capability, tuple) else (capability,)
            allowed = any(_may(user, c, env) for c in capabilities)
            before = effect(scoped, env, user) if effect else None
            response = getattr(client, method)(url, data_)
            after = effect(scoped, env, user) if effect else None
            if allowed:
                assert response.status_code in (200, 302), f"{user} should {what} in {env}: {response.status_code}"
                if effect:
                    assert after != before, f"{user} may {what} in {env}, but nothing happened"
            else:
                assert response.status_code == 403, f"{user} must not {what} in {env}: got {response.status_code}"
                if effect:
                    assert after == before, f"a refused {what} by {user} in {env} changed something"
            checked += 1
    assert checked == 2 * len(SCOPED_MATRIX)


def _environments_listed(name, context):
    if name in ("rules:rule_list", "schedules:schedule_list", "environments:environment_list"):
        rows = [row.record for row in context["table"].rows]
    elif name == "changes:review_list":
        rows = list(context["changes"])
    elif name == "audit:event_list":
        return {e.environment_id for e in context["page"].events if e.action == "change.commented"}
    else:
        rows = list(context["environments"])
    return {getattr(row, "environment_id", None) or row.pk for row in rows}


LISTS = ["rules:rule_list", "schedules:schedule_list", "changes:review_list", "audit:event_list",
         "environments:environment_list", "dashboard:dashboard"]


@pytest.mark.parametrize("user", sorted(SCOPED))
def test_lists_show_only_the_environments_a_user_may_read(scoped, user):
    from django.test import Client

    client = Client()
    client.force_login(scoped["users"][user])
    expected = {scoped[env]["env"].pk for env in ENVS if _may(user, "view", env)}
    for name in LISTS:
        response = client.get(reverse(name), {"show": "all"} if name == "changes:review_list" else {})
        assert response.status_code == 200, name
        assert _environments_listed(name, response.context) == expected, name
    # the environment pickers of Create rule / Create schedule offer only where they may submit
    may_submit = {scoped[env]["env"].pk for env in ENVS if _may(user, "submit", env)}
    for name in ("rules:rule_list", "schedules:schedule_list"):
        assert {e.pk for e in client.get(reverse(name)).context["environments"]} == may_submit, name
