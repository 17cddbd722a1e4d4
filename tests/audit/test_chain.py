"""The audit history is append-only and hash-chained: tampering in SQL is found by verify_audit."""
import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from audit.models import AppendOnlyError, AuditEvent
from audit.services import audit_record, audit_verify_chain

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def events(db):
    return [audit_record(action="change.submitted", object_type="rule", object_id=i, object_repr=f"default/r{i}",
                         before={"n": i}, after={"n": i + 1}, message=f"event {i}") for i in range(5)]


def sql(statement: str, params=()):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def as_database_owner(statement: str, params=()):
    """What someone with the database owner's rights could do: switch the trigger off, then edit rows."""
    if connection.vendor == "postgresql":
        sql("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_auditevent_append_only")
    try:
        sql(statement, params)
    finally:
        if connection.vendor == "postgresql":
            sql("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_auditevent_append_only")


def test_intact_chain_verifies(events, capsys):
    assert audit_verify_chain() is None
    call_command("verify_audit")
    assert "Audit chain intact: 5 events." in capsys.readouterr().out


def test_the_app_cannot_update_or_delete_events(events):
    event = events[2]
    event.message = "changed"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(message="x")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert audit_verify_chain() is None


def test_the_database_itself_refuses_update_and_delete_on_postgresql(events):
    """PostgreSQL: a trigger refuses UPDATE and DELETE. SQLite has no such trigger here (single-machine mode);
    there the app's guards and the hash chain are the protection, and raw SQL is caught by verify_audit."""
    for statement in ("UPDATE audit_auditevent SET message = 'x'", "DELETE FROM audit_auditevent"):
        if connection.vendor == "postgresql":
            with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
                sql(statement)
        else:
            with transaction.atomic():
                sql(statement)
            assert audit_verify_chain() is not None
            break
    if connection.vendor == "postgresql":
        assert AuditEvent.objects.count() == 5 and audit_verify_chain() is None


def test_an_altered_event_is_named(events):
    victim = events[2]
    as_database_owner("UPDATE audit_auditevent SET message = %s WHERE id = %s", ["nothing happened", victim.pk])
    problem = audit_verify_chain()
    assert problem.event_id == victim.pk and "altered" in problem.reason
    with pytest.raises(CommandError, match=f"event {victim.pk}: its content was altered"):
        call_command("verify_audit")


def test_an_altered_json_field_is_named(events):
    victim = events[1]
    if connection.vendor == "postgresql":
        as_database_owner("UPDATE audit_auditevent SET after = '{\"n\": 99}'::jsonb WHERE id = %s", [victim.pk])
    else:
        as_database_owner("UPDATE audit_auditevent SET after = '{\"n\": 99}' WHERE id = %s", [victim.pk])
    assert audit_verify_chain().event_id == victim.pk


def test_a_removed_event_is_named(events):
    as_database_owner("DELETE FROM audit_auditevent WHERE id = %s", [events[3].pk])
    problem = audit_verify_chain()
    assert problem.event_id == events[4].pk and f"missing after event {events[2].pk}" in problem.reason
    with pytest.raises(CommandError, match="an event is missing"):
        call_command("verify_audit")


def test_removing_the_newest_event_is_found_too(events):
    as_database_owner("DELETE FROM audit_auditevent WHERE id = %s", [events[4].pk])
    problem = audit_verify_chain()
    assert problem is not None and "newest" in problem.reason


def test_deleting_a_user_keeps_their_events_intact(events, users):
    from audit.services import audit_record as record

    record(action="change.submitted", object_type="rule", object_repr="default/r", actor=users["viewer"])
    users["viewer"].delete()
    assert audit_verify_chain() is None
    assert AuditEvent.objects.filter(actor_name="viewer").exists()
