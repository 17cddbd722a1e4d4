"""The kind registry: what each kind registers, what the engine asks of a kind's module, the drafts
selector, and that the engine and the audit name no kind (the layers)."""
import ast
import inspect
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from changes import kinds
from changes.kinds import Kind, KindHandler
from changes.models import ChangeRequest
from changes.selectors import DRAFTS_SHOWN, drafts_of
from environments.models import Environment
from rules.models import Rule
from schedules.models import Schedule

ROOT = Path(__file__).resolve().parents[2]


def test_both_kinds_register_themselves_when_django_starts():
    assert kinds.get("rule") == Kind(name="rule", label="Rule", model="rules.Rule", module="rules.kind",
                                     url_namespace="rules", change_field="rule", first_step="detail",
                                     container_field="event_bus_name", cloudformation_type="AWS::Events::Rule")
    assert kinds.get("schedule") == Kind(name="schedule", label="Schedule", model="schedules.Schedule",
                                         module="schedules.kind", url_namespace="schedules",
                                         change_field="schedule", first_step="detail", container_field="group_name",
                                         cloudformation_type="AWS::Scheduler::Schedule")
    assert {kind.name for kind in kinds.all_kinds()} == {"rule", "schedule"}
    assert kinds.model_for("rule") is Rule and kinds.model_for("schedule") is Schedule
    assert kinds.handler_for("schedule").__name__ == "schedules.kind"


def test_an_unknown_kind_is_a_key_error_naming_the_known_ones():
    with pytest.raises(KeyError, match="No kind 'pipe' is registered .known: rule, schedule."):
        kinds.get("pipe")


def test_registering_is_idempotent_but_a_name_cannot_change_hands():
    rule = kinds.get("rule")
    assert kinds.register(rule) is rule  # AppConfig.ready() may run again (e.g. in a test runner)
    with pytest.raises(ValueError, match="Another kind is already registered as 'rule'"):
        kinds.register(Kind(name="rule", label="Pipe", model="pipes.Pipe", module="pipes.kind",
                            url_namespace="pipes", change_field="pipe", first_step="source"))
    assert kinds.get("rule") == rule


def _protocol_members() -> set[str]:
    functions = {name for name, _ in inspect.getmembers(KindHandler, inspect.isfunction) if not name.startswith("_")}
    return functions | set(KindHandler.__annotations__)


def test_every_kind_module_provides_what_the_engine_asks_for():
    members = _protocol_members()
    assert {"validate", "plan", "read_live", "read_polled", "status_against", "POLL_SERVICES"} <= members
    for kind in kinds.all_kinds():
        missing = sorted(name for name in members if not hasattr(kind.handler, name))
        assert missing == [], f"{kind.module} lacks {missing}"


def _imported_modules(path: Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


@pytest.mark.parametrize("package, forbidden", [("changes", {"rules", "schedules"}), ("audit", {"changes"})])
def test_the_engine_names_no_kind_and_the_audit_no_engine(package, forbidden):
    found = [(str(path.relative_to(ROOT)), module) for path in (ROOT / package).rglob("*.py")
             for module in _imported_modules(path) if module.split(".")[0] in forbidden]
    assert found == []


@pytest.mark.django_db
def test_drafts_of_is_one_users_drafts_of_one_kind_last_edited_first(users):
    environment = Environment.objects.create(name="Sandbox", region="us-east-1", account_id="123456789012")
    operator, other = users["operator"], users["reviewer"]

    def draft(kind, author, minutes, state="draft"):
        change = ChangeRequest.objects.create(kind=kind, action="create", environment=environment, author=author,
                                              state=state, object_name=f"default/{kind}-{minutes}")
        edited = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc) + timedelta(minutes=minutes)
        ChangeRequest.objects.filter(pk=change.pk).update(last_updated=edited)
        return change.pk

    older, newer = draft("rule", operator, 1), draft("rule", operator, 5)
    draft("schedule", operator, 9)  # another kind
    draft("rule", other, 7)  # someone else's
    draft("rule", operator, 8, state="submitted")  # no longer a draft
    assert [change.pk for change in drafts_of(operator, "rule")] == [newer, older]

    many = [draft("schedule", operator, 100 + minute) for minute in range(DRAFTS_SHOWN + 1)]
    shown = [change.pk for change in drafts_of(operator, "schedule")]
    assert shown == many[::-1][:DRAFTS_SHOWN] and len(shown) == 20
