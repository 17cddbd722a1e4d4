"""Every transition of the change request state machine, legal and illegal."""
import itertools

import pytest

from audit.models import AuditEvent
from changes.choices import ChangeState as S
from changes.models import ChangeRequest
from changes.states import TRANSITIONS, IllegalTransition, transition

pytestmark = pytest.mark.django_db

LEGAL = {(a, b) for a, targets in TRANSITIONS.items() for b in targets}
ALL_PAIRS = list(itertools.product(S.values, S.values))


@pytest.fixture
def make_change(users, db):
    from environments.models import Environment

    environment = Environment.objects.create(name="Sandbox", region="us-east-1")

    def make(state):
        return ChangeRequest.objects.create(kind="rule", action="create", environment=environment,
                                            author=users["operator"], state=state, object_name="default/r")
    return make


def test_the_table_is_the_documented_machine():
    assert LEGAL == {
        (S.DRAFT, S.SUBMITTED), (S.DRAFT, S.WITHDRAWN), (S.DRAFT, S.STALE),
        (S.SUBMITTED, S.APPROVED), (S.SUBMITTED, S.REJECTED), (S.SUBMITTED, S.WITHDRAWN), (S.SUBMITTED, S.STALE),
        (S.APPROVED, S.APPLYING), (S.APPROVED, S.STALE), (S.APPROVED, S.FAILED),
        (S.APPLYING, S.APPLIED), (S.APPLYING, S.FAILED), (S.APPLYING, S.APPROVED),
        (S.FAILED, S.APPROVED), (S.FAILED, S.WITHDRAWN), (S.FAILED, S.STALE),
    }


@pytest.mark.parametrize(("start", "to"), ALL_PAIRS, ids=[f"{a}->{b}" for a, b in ALL_PAIRS])
def test_transition(make_change, start, to):
    change = make_change(start)
    events_before = AuditEvent.objects.count()
    if (start, to) in LEGAL:
        transition(change, to, message="test")
        change.refresh_from_db()
        assert change.state == to
        if to == S.SUBMITTED:
            assert change.submitted_at is not None
        if to == S.APPLIED:
            assert change.applied_at is not None
        assert AuditEvent.objects.count() == events_before + 1
    else:
        with pytest.raises(IllegalTransition):
            transition(change, to)
        change.refresh_from_db()
        assert change.state == start  # an illegal transition changes nothing
        assert AuditEvent.objects.count() == events_before


def test_expect_narrows_the_legal_starting_states(make_change):
    change = make_change(S.FAILED)
    with pytest.raises(IllegalTransition):
        transition(change, S.APPROVED, expect=(S.APPLYING,))
    transition(change, S.APPROVED, expect=(S.FAILED,))
    assert change.state == S.APPROVED


def test_leaving_applying_releases_the_lease_and_a_lost_holder_changes_nothing(make_change):
    from datetime import timedelta

    from django.utils import timezone

    from changes.states import LeaseLost

    change = make_change(S.APPROVED)
    transition(change, S.APPLYING, lease_owner="host:1:task-a", lease_expires=timezone.now() + timedelta(minutes=1))
    # another worker cannot finish it
    with pytest.raises(LeaseLost):
        transition(change, S.APPLIED, holder="host:2:task-b")
    change.refresh_from_db()
    assert change.state == S.APPLYING and change.lease_owner == "host:1:task-a"
    # its holder can; the lease goes with the state
    transition(change, S.APPLIED, holder="host:1:task-a")
    change.refresh_from_db()
    assert change.state == S.APPLIED and change.lease_owner == "" and change.lease_expires is None
