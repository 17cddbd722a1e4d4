"""The audit history is append-only and hash-chained: tampering in SQL is found by verify_audit."""
import json
import os
import stat
from contextlib import contextmanager

import pytest
from django.core.checks import Error
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from audit.checkpoints import audit_checkpoint_write
from audit.checks import audit_chain_key_check
from audit.keys import ChainKey, key_id, signing_key, verification_keys
from audit.models import AppendOnlyError, AuditChainHead, AuditEvent
from audit.services import GENESIS, HASHED_FIELDS, audit_record, audit_verify_chain, event_hash

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


def test_intact_chain_verifies_and_leaves_a_checkpoint(events, capsys, audit_checkpoints):
    assert audit_verify_chain() is None
    call_command("verify_audit")
    total = AuditEvent.objects.count()
    assert f"Audit chain intact: {total} events. 0 checkpoint(s)" in capsys.readouterr().out
    line = json.loads(audit_checkpoints.read_text().splitlines()[-1])
    assert (line["event_id"], line["hash"], line["count"]) == (events[-1].pk, events[-1].hash, total)
    call_command("verify_audit")
    assert "1 checkpoint(s)" in capsys.readouterr().out
    assert len(audit_checkpoints.read_text().splitlines()) == 1  # nothing new to checkpoint


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


@pytest.mark.parametrize(("statement", "found"), [("UPDATE audit_auditevent SET message = 'x'", "altered"),
                                                  ("DELETE FROM audit_auditevent", "removed")])
def test_raw_sql_rewriting_events_is_refused_on_postgresql_and_found_by_verify_on_sqlite(events, statement, found):
    """PostgreSQL: a trigger refuses UPDATE and DELETE, and nothing changes. SQLite has no such trigger
    (single-machine mode): the statement goes through, and the hash chain is what tells (verify_audit)."""
    total = AuditEvent.objects.count()
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            sql(statement)
        assert AuditEvent.objects.count() == total and audit_verify_chain() is None
    else:
        with transaction.atomic():
            sql(statement)
        assert found in audit_verify_chain().reason
        with pytest.raises(CommandError, match=found):
            call_command("verify_audit")


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


@contextmanager
def triggers_off():
    """What a superuser can do on PostgreSQL: switch every trigger off (for one transaction). SQLite has none."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            sql("SET LOCAL session_replication_role = replica")
        yield


def forge_from(start: int, digest) -> None:
    """Rewrite event `start`'s message and recompute its hash and every later one with `digest`, and the head."""
    prev = AuditEvent.objects.get(pk=start).prev_hash
    with triggers_off():
        for event in AuditEvent.objects.filter(id__gte=start).order_by("id"):
            fields = {name: getattr(event, name) for name in HASHED_FIELDS}
            if event.pk == start:
                fields["message"] = "nothing happened"
            new_hash, new_key_id = digest(prev, fields, event.key_id)
            sql("UPDATE audit_auditevent SET message = %s, prev_hash = %s, hash = %s, key_id = %s WHERE id = %s",
                [fields["message"], prev, new_hash, new_key_id, event.pk])
            prev = new_hash
        sql("UPDATE audit_auditchainhead SET last_hash = %s", [prev])


WRONG_SECRET = b"the attacker's own key, long enough"


@pytest.mark.parametrize(("digest", "reason"), [
    (lambda prev, fields, kid: (event_hash(prev, fields), kid), "altered"),
    (lambda prev, fields, kid: (event_hash(prev, fields), ""), "unkeyed"),
    (lambda prev, fields, kid: (event_hash(prev, fields, ChainKey(kid, WRONG_SECRET)), kid), "altered"),
    (lambda prev, fields, kid: (event_hash(prev, fields, ChainKey(key_id(WRONG_SECRET), WRONG_SECRET)),
                                key_id(WRONG_SECRET)), "unknown key"),
], ids=["sha256", "sha256-as-legacy", "hmac-wrong-key", "hmac-wrong-key-own-id"])
def test_rewriting_an_event_and_recomputing_every_later_hash_is_caught(events, digest, reason):
    forge_from(events[1].pk, digest)
    assert AuditEvent.objects.get(pk=events[1].pk).message == "nothing happened"
    problem = audit_verify_chain()
    assert problem.event_id == events[1].pk and reason in problem.reason, problem


def test_removing_the_newest_events_and_moving_the_head_back_is_caught_by_the_checkpoint(events):
    audit_checkpoint_write()
    newest = audit_record(action="change.submitted", object_type="rule", object_repr="default/late")
    keep = events[2]
    with triggers_off():
        sql("DELETE FROM audit_auditevent WHERE id > %s", [keep.pk])
        sql("UPDATE audit_auditchainhead SET last_event_id = %s, last_hash = %s", [keep.pk, keep.hash])
    assert not AuditEvent.objects.filter(pk=newest.pk).exists()
    problem = audit_verify_chain()
    assert problem.event_id == events[4].pk and "newest events were removed" in problem.reason


def test_emptying_and_refilling_the_tables_is_caught_by_the_checkpoint(events):
    audit_checkpoint_write()
    with triggers_off():  # TRUNCATE on PostgreSQL is refused unless the triggers are off; SQLite has no TRUNCATE
        sql("DELETE FROM audit_auditevent")
        sql("DELETE FROM audit_auditchainhead")
    refill = [audit_record(action="change.submitted", object_type="rule", object_repr=f"default/new{i}")
              for i in range(3)]
    assert refill[0].prev_hash == GENESIS
    problem = audit_verify_chain()
    assert problem.event_id == events[-1].pk and "missing" in problem.reason


def test_an_altered_checkpoint_file_is_named(events, audit_checkpoints):
    audit_checkpoint_write()
    line = json.loads(audit_checkpoints.read_text())
    line["count"] -= 2
    audit_checkpoints.write_text(json.dumps(line) + "\n")
    problem = audit_verify_chain()
    assert problem.event_id is None and "line 1 of the checkpoint file" in problem.reason


def test_a_rotated_key_verifies_its_events_only_while_listed(events, settings):
    first_key = signing_key()
    settings.AUDIT_CHAIN_KEY, settings.AUDIT_CHAIN_OLD_KEYS = "k" * 40, [first_key.secret.decode()]
    later = audit_record(action="change.submitted", object_type="rule", object_repr="default/after-rotation")
    assert later.key_id == key_id(b"k" * 40) != first_key.id
    assert audit_verify_chain() is None
    settings.AUDIT_CHAIN_OLD_KEYS = []
    problem = audit_verify_chain()
    assert problem.event_id == AuditEvent.objects.order_by("id").first().pk and "unknown key" in problem.reason


def _legacy_event(i: int) -> AuditEvent:
    """An event as releases before keyed hashing wrote them: plain SHA-256, no key id."""
    from django.utils import timezone

    head, _ = AuditChainHead.objects.get_or_create(id=1, defaults={"last_hash": GENESIS})
    fields = {name: None for name in HASHED_FIELDS} | {
        "time": timezone.now(), "actor_name": "system", "action": "change.submitted", "object_type": "rule",
        "object_id": str(i), "object_repr": f"default/old{i}", "related_type": "", "related_id": "",
        "environment_name": "", "message": f"old {i}", "request_id": "", "user_agent": ""}
    event = AuditEvent(prev_hash=head.last_hash, hash=event_hash(head.last_hash, fields), **fields)
    event.save()
    with triggers_off():
        sql("UPDATE audit_auditchainhead SET last_event_id = %s, last_hash = %s", [event.pk, event.hash])
    return event


def test_events_from_before_keyed_hashing_verify_up_to_the_sealed_boundary_only(transactional_db):
    from importlib import import_module
    from types import SimpleNamespace

    from django.apps import apps

    with triggers_off():  # a database as an earlier release left it: only unkeyed events
        sql("DELETE FROM audit_auditevent")
        sql("DELETE FROM audit_auditchainhead")
    old = [_legacy_event(i) for i in range(3)]
    assert audit_verify_chain().event_id == old[0].pk  # unkeyed, and no seal: refused
    migration = import_module("audit.migrations.0004_keyed_chain")
    with triggers_off():
        migration.seal_legacy_segment(apps, SimpleNamespace(connection=connection))
    new = audit_record(action="change.submitted", object_type="rule", object_repr="default/new")
    assert new.key_id and audit_verify_chain() is None
    # An unkeyed event after the boundary is a forgery, even with a correct plain SHA-256 chain.
    forged = _legacy_event(9)
    problem = audit_verify_chain()
    assert problem.event_id == forged.pk and "unkeyed" in problem.reason
    # Moving the boundary forward breaks its seal.
    with triggers_off():
        sql("UPDATE audit_auditchainhead SET legacy_last_id = %s", [forged.pk])
    problem = audit_verify_chain()
    assert problem.event_id == forged.pk and "seal" in problem.reason


def test_the_key_is_required_outside_local_mode_and_generated_once_in_local_mode(settings, tmp_path):
    settings.LOCAL_MODE, settings.AUDIT_CHAIN_KEY = False, ""
    assert [e.id for e in audit_chain_key_check() if isinstance(e, Error)] == ["audit.E001"]
    with pytest.raises(ImproperlyConfigured, match="AUDIT_CHAIN_KEY is required"):
        signing_key()
    settings.AUDIT_CHAIN_KEY = "short"
    assert [e.id for e in audit_chain_key_check()] == ["audit.W001"]
    settings.LOCAL_MODE, settings.AUDIT_CHAIN_KEY, settings.VAR_DIR = True, "", tmp_path
    key = signing_key()
    path = tmp_path / "audit-chain.key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600 and len(path.read_text().strip()) == 64
    assert key.secret == path.read_text().strip().encode() and key.id in verification_keys()
    from audit import keys

    keys._ring.cache_clear()  # as a new process would: the file is read, not generated again
    assert signing_key() == key


def test_beat_writes_a_signed_checkpoint_when_the_chain_has_grown(events, settings, audit_checkpoints):
    from audit.tasks import audit_checkpoint

    assert settings.CELERY_BEAT_SCHEDULE["audit-checkpoint"]["task"] == audit_checkpoint.name
    audit_checkpoint.apply()
    audit_checkpoint.apply()  # nothing new since: no second line
    [line] = [json.loads(text) for text in audit_checkpoints.read_text().splitlines()]
    assert (line["event_id"], line["hash"], line["key_id"]) == (events[-1].pk, events[-1].hash, signing_key().id)
    later = audit_record(action="change.submitted", object_type="rule", object_repr="default/later")
    audit_checkpoint.apply()
    assert json.loads(audit_checkpoints.read_text().splitlines()[-1])["event_id"] == later.pk
    assert audit_verify_chain() is None
