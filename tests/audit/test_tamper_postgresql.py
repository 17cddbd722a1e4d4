"""Tampering with the audit log on PostgreSQL, done as a database superuser would, is refused or caught.

Runs in both CI runs: a scratch PostgreSQL database of its own (auth and audit migrated by `manage.py`
in a subprocess, as the owner), whatever database the rest of the suite uses. PostgreSQL on
127.0.0.1:5432 (or the suite's DATABASE_URL server) is required: unreachable is a failure.
The app's side (recording, verifying, checkpoints) runs through a Django connection to the scratch
database; the attacker's side is a separate psycopg connection as the superuser `postgres`, or as
the role `db_app_role` created.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import environ
import psycopg
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connections

from audit.checkpoints import audit_checkpoint_write
from audit.keys import ChainKey, key_id, signing_key
from audit.models import AuditEvent
from audit.services import HASHED_FIELDS, audit_record, audit_verify, event_hash

ROOT = Path(__file__).resolve().parents[2]
ALIAS, APP_ALIAS = "audit_tamper", "audit_tamper_app"
SCRATCH_DB = f"ec_audit_tamper_{os.getpid()}"
APP_ROLE = f"ec_audit_app_{os.getpid()}"
APP_PASSWORD = "app-role-password-1"


# Only the apps the drills need: auth (and contenttypes), then audit. The four roles are not synced after a
# partial migrate (their groups would be recorded before the audit tables exist); a full migrate syncs them last.
MIGRATE = """
from django.core.management import call_command
from django.db.models.signals import post_migrate
post_migrate.disconnect(dispatch_uid="accounts.roles_sync")
call_command("migrate", "auth", verbosity=0)
"""


def _server() -> dict:
    """The PostgreSQL server the suite uses (DATABASE_URL) or the local one, as a superuser."""
    default = settings.DATABASES["default"]
    if default["ENGINE"] == "django.db.backends.postgresql":
        return {"host": default["HOST"] or "127.0.0.1", "port": int(default["PORT"] or 5432),
                "user": default["USER"] or "postgres", "password": default["PASSWORD"] or ""}
    return {"host": "127.0.0.1", "port": 5432, "user": "postgres", "password": ""}


def _url(server: dict, db: str, *, user: str | None = None, password: str | None = None) -> str:
    user, password = user or server["user"], password if password is not None else server["password"]
    auth = f"{user}:{password}" if password else user
    return f"postgres://{auth}@{server['host']}:{server['port']}/{db}"


def superuser(server: dict, db: str = "postgres") -> psycopg.Connection:
    return psycopg.connect(_url(server, db), autocommit=True, connect_timeout=10)


def _register(alias: str, url: str) -> None:
    config = environ.Env.db_url_config(url)
    connections.settings[alias] = connections.configure_settings(
        {"default": dict(settings.DATABASES["default"]), alias: config})[alias]


def _unregister(alias: str) -> None:
    if alias in connections.settings:
        connections[alias].close()
        del connections[alias]
        del connections.settings[alias]


def _drop_leftovers(conn) -> None:
    """Scratch databases of earlier runs that were killed before their teardown (their process is gone)."""
    for (name,) in conn.execute("SELECT datname FROM pg_database WHERE datname ~ '^ec_audit_tamper_[0-9]+(_upgrade)?$'"):
        pid = int(name.split("_")[3])
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        except PermissionError:
            pass


@pytest.fixture(scope="module")
def server(django_db_blocker):
    """A scratch database migrated (as the owner: the superuser here): auth (with contenttypes) and audit."""
    server = _server()
    with superuser(server) as conn:  # unreachable PostgreSQL fails here, loudly
        _drop_leftovers(conn)
        conn.execute(f'DROP DATABASE IF EXISTS "{SCRATCH_DB}"')
        conn.execute(f'CREATE DATABASE "{SCRATCH_DB}"')
    env = {**os.environ, "DATABASE_URL": _url(server, SCRATCH_DB), "AUDIT_CHAIN_KEY": signing_key().secret.decode(),
           "EVENTCONSOLE_VAR_DIR": str(settings.VAR_DIR)}
    migrate = MIGRATE + "call_command('migrate', 'audit', verbosity=0)\n"
    subprocess.run([sys.executable, "manage.py", "shell", "-c", migrate], cwd=ROOT, env=env, check=True, timeout=180)
    with django_db_blocker.unblock():
        _register(ALIAS, _url(server, SCRATCH_DB))
        yield server
        _unregister(APP_ALIAS)
        _unregister(ALIAS)
    with superuser(server) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{SCRATCH_DB}" WITH (FORCE)')
        conn.execute(f'DROP ROLE IF EXISTS "{APP_ROLE}"')


@pytest.fixture
def attacker(server):
    """A superuser connection to the scratch database; starts every test from an empty audit log."""
    with superuser(server, SCRATCH_DB) as conn:
        with conn.transaction():
            conn.execute("SET LOCAL session_replication_role = replica")  # superuser only: triggers off
            conn.execute("TRUNCATE audit_auditevent, audit_auditchainhead RESTART IDENTITY")
        yield conn


def record(n: int, using: str = ALIAS) -> list[AuditEvent]:
    return [audit_record(action="change.submitted", object_type="rule", object_id=i, object_repr=f"default/r{i}",
                         before={"n": i}, after={"n": i + 1}, message=f"event {i}", using=using) for i in range(n)]


def problem(using: str = ALIAS):
    return audit_verify(using=using).problem


def ids_hashes(conn) -> list[tuple[int, str]]:
    return conn.execute("SELECT id, hash FROM audit_auditevent ORDER BY id").fetchall()


def test_deleting_the_newest_events_and_moving_the_head_back_is_refused_then_caught(attacker):
    events = record(6)
    assert audit_checkpoint_write(using=ALIAS).event_id == events[-1].pk
    events += record(2)
    assert problem() is None
    keep = events[3]
    move_head = ("UPDATE audit_auditchainhead SET last_event_id = %s, last_hash = %s", [keep.pk, keep.hash])
    # As the owner, with the triggers on: the head neither moves back nor goes away, events stay.
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="only move forward"):
        attacker.execute(*move_head)
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="cannot be deleted"):
        attacker.execute("DELETE FROM audit_auditchainhead")
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
        attacker.execute("DELETE FROM audit_auditevent WHERE id > %s", [keep.pk])
    assert problem() is None
    # As a superuser with the triggers off: the chain alone is now consistent again...
    with attacker.transaction():
        attacker.execute("SET LOCAL session_replication_role = replica")
        attacker.execute("DELETE FROM audit_auditevent WHERE id > %s", [keep.pk])
        attacker.execute(*move_head)
    assert [row[0] for row in ids_hashes(attacker)] == [e.pk for e in events[:4]]
    # ...but the checkpoint outside the database still names event 6.
    found = problem()
    assert found.event_id == events[5].pk and "newest events were removed" in found.reason
    with pytest.raises(CommandError, match=f"event {events[5].pk}: the checkpoint of .* recorded 6 events"):
        call_command("verify_audit", database=ALIAS)


def test_truncate_is_refused_and_truncate_with_triggers_off_is_caught(attacker):
    events = record(5)
    audit_checkpoint_write(using=ALIAS)
    for statement in ("TRUNCATE audit_auditevent", "TRUNCATE audit_auditchainhead",
                      "TRUNCATE audit_auditevent, audit_auditchainhead RESTART IDENTITY CASCADE"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="cannot be truncated"):
            attacker.execute(statement)  # the owner (a superuser, even) with the triggers on
    assert len(ids_hashes(attacker)) == 5 and problem() is None
    # A superuser switches the triggers off, empties both tables; the app goes on recording a new chain.
    attacker.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")
    attacker.execute("ALTER TABLE audit_auditchainhead DISABLE TRIGGER USER")
    attacker.execute("TRUNCATE audit_auditevent, audit_auditchainhead")
    attacker.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER USER")
    attacker.execute("ALTER TABLE audit_auditchainhead ENABLE TRIGGER USER")
    refill = record(3)
    assert refill[0].prev_hash == "0" * 64  # a fresh, internally valid chain
    found = problem()
    assert found.event_id == events[-1].pk and "is missing (events were removed)" in found.reason
    # Emptied and refilled from id 1 (identity restarted): the checkpoint's event now differs.
    with attacker.transaction():
        attacker.execute("SET LOCAL session_replication_role = replica")
        attacker.execute("TRUNCATE audit_auditevent, audit_auditchainhead RESTART IDENTITY")
    record(6)
    found = problem()
    assert found.event_id == events[-1].pk and "differs from the checkpoint" in found.reason


def forge_from(conn, start: int, digest) -> None:
    """Rewrite event `start` and recompute the hash of it and every later event with `digest`, then the head."""
    rows = AuditEvent.objects.using(ALIAS).filter(id__gte=start).order_by("id")
    prev = AuditEvent.objects.using(ALIAS).get(id=start).prev_hash
    with conn.transaction():
        conn.execute("SET LOCAL session_replication_role = replica")
        for event in rows:
            fields = {name: getattr(event, name) for name in HASHED_FIELDS}
            if event.pk == start:
                fields["message"] = "nothing happened"
            new_hash, new_key_id = digest(prev, fields, event.key_id)
            conn.execute("UPDATE audit_auditevent SET message = %s, prev_hash = %s, hash = %s, key_id = %s "
                         "WHERE id = %s", [fields["message"], prev, new_hash, new_key_id, event.pk])
            prev = new_hash
        conn.execute("UPDATE audit_auditchainhead SET last_hash = %s", [prev])


WRONG = ChainKey(id=key_id(b"a key the attacker made up, 32 chars+"), secret=b"a key the attacker made up, 32 chars+")
FORGERIES = {
    # plain SHA-256 (what the chain used to be), claiming to be a legacy event
    "sha256-as-legacy": (lambda prev, fields, kid: (event_hash(prev, fields), ""), "unkeyed"),
    # plain SHA-256, keeping the key id
    "sha256-keeping-key-id": (lambda prev, fields, kid: (event_hash(prev, fields), kid), "altered"),
    # HMAC under a wrong key, claiming the real key's id
    "hmac-wrong-key-real-id": (lambda prev, fields, kid: (event_hash(prev, fields, ChainKey(kid, WRONG.secret)), kid),
                               "altered"),
    # HMAC under a wrong key, with that key's own id
    "hmac-wrong-key-own-id": (lambda prev, fields, kid: (event_hash(prev, fields, WRONG), WRONG.id), "unknown key"),
}


@pytest.mark.parametrize("forgery", list(FORGERIES))
def test_rewriting_an_event_and_recomputing_every_later_hash_is_caught(attacker, forgery):
    events = record(6)  # no checkpoint: the keyed chain alone must catch it
    digest, reason = FORGERIES[forgery]
    forge_from(attacker, events[2].pk, digest)
    assert AuditEvent.objects.using(ALIAS).get(pk=events[2].pk).message == "nothing happened"
    found = problem()
    assert found.event_id == events[2].pk and reason in found.reason, found


def test_the_app_role_cannot_disable_triggers_truncate_update_or_delete_events(attacker, server, monkeypatch):
    monkeypatch.setenv("EC_TEST_APP_PASSWORD", APP_PASSWORD)
    call_command("db_app_role", APP_ROLE, "--password-env", "EC_TEST_APP_PASSWORD", database=ALIAS)
    call_command("db_app_role", APP_ROLE, "--password-env", "EC_TEST_APP_PASSWORD", database=ALIAS)  # re-runnable
    attributes = attacker.execute("SELECT rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolbypassrls, "
                                  "rolreplication FROM pg_roles WHERE rolname = %s", [APP_ROLE]).fetchone()
    assert attributes == (True, False, False, False, False, False)

    # The app works as that role: records, verifies, writes a checkpoint.
    _register(APP_ALIAS, _url(server, SCRATCH_DB, user=APP_ROLE, password=APP_PASSWORD))
    events = record(4, using=APP_ALIAS)
    assert connections[APP_ALIAS].connection.info.user == APP_ROLE
    assert audit_checkpoint_write(using=APP_ALIAS).event_id == events[-1].pk
    assert problem(APP_ALIAS) is None

    with psycopg.connect(_url(server, SCRATCH_DB, user=APP_ROLE, password=APP_PASSWORD), autocommit=True) as app:
        refused = {
            "ALTER TABLE audit_auditevent DISABLE TRIGGER ALL": "must be owner",
            "ALTER TABLE audit_auditevent DISABLE TRIGGER audit_auditevent_append_only": "must be owner",
            "DROP TRIGGER audit_auditevent_no_truncate ON audit_auditevent": "must be owner",
            "SET session_replication_role = replica": "permission denied",
            "TRUNCATE audit_auditevent": "permission denied",
            "TRUNCATE audit_auditchainhead": "permission denied",
            "UPDATE audit_auditevent SET message = 'x'": "permission denied",
            "DELETE FROM audit_auditevent": "permission denied",
            "DELETE FROM audit_auditchainhead": "permission denied",
            "UPDATE audit_auditchainhead SET legacy_seal = ''": "permission denied",
            f"UPDATE audit_auditchainhead SET last_event_id = {events[0].pk}, last_hash = '{events[0].hash}'":
                "only move forward",
            f'ALTER ROLE "{APP_ROLE}" SUPERUSER': "superuser",
            "INSERT INTO django_migrations (app, name, applied) VALUES ('x', 'y', now())": "permission denied",
        }
        for statement, message in refused.items():
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match=message):
                app.execute(statement)
    assert [row[0] for row in ids_hashes(attacker)] == [e.pk for e in events] and problem() is None


def test_db_app_role_refuses_a_role_that_owns_tables_and_prints_its_sql(attacker, capsys):
    owner = f"{APP_ROLE}_owner"
    attacker.execute(f'CREATE ROLE "{owner}" LOGIN')
    try:
        attacker.execute('CREATE TABLE owned_by_app (id int)')
        attacker.execute(f'ALTER TABLE owned_by_app OWNER TO "{owner}"')
        with pytest.raises(CommandError, match="owns .*owned_by_app.*could disable the audit triggers"):
            call_command("db_app_role", owner, database=ALIAS)
    finally:
        attacker.execute("DROP TABLE IF EXISTS owned_by_app")
        attacker.execute(f'DROP OWNED BY "{owner}"')
        attacker.execute(f'DROP ROLE "{owner}"')
    call_command("db_app_role", "someone_else", "--print-sql", database=ALIAS)
    out = capsys.readouterr().out
    assert 'CREATE ROLE "someone_else";' in out
    assert 'REVOKE UPDATE, DELETE ON "public"."audit_auditevent" FROM "someone_else";' in out
    assert 'GRANT UPDATE ("last_hash", "last_event_id") ON "public"."audit_auditchainhead" TO "someone_else";' in out
    assert not attacker.execute("SELECT 1 FROM pg_roles WHERE rolname = 'someone_else'").fetchone()


UPGRADE = MIGRATE + """
from datetime import datetime, timezone
from django.db import connection
from audit.services import GENESIS, HASHED_FIELDS, event_hash

call_command("migrate", "audit", "0003", verbosity=0)
prev = GENESIS
with connection.cursor() as cursor:  # events as the release before keyed hashing wrote them
    for i in range(3):
        fields = {name: None for name in HASHED_FIELDS} | {
            "time": datetime(2026, 1, 1, 12, i, tzinfo=timezone.utc), "actor_name": "system",
            "action": "change.submitted", "object_type": "rule", "object_id": str(i), "object_repr": f"default/r{i}",
            "related_type": "", "related_id": "", "environment_name": "", "message": f"old {i}", "request_id": "",
            "user_agent": "", "after": {"n": i}}
        digest = event_hash(prev, fields)
        cursor.execute(
            "INSERT INTO audit_auditevent (time, actor_name, action, object_type, object_id, object_repr, related_type,"
            " related_id, environment_name, after, message, request_id, user_agent, prev_hash, hash)"
            " VALUES (%s, 'system', 'change.submitted', 'rule', %s, %s, '', '', '', %s::jsonb, %s, '', '', %s, %s)",
            [fields["time"], str(i), f"default/r{i}", '{"n": %d}' % i, f"old {i}", prev, digest])
        prev = digest
    cursor.execute("INSERT INTO audit_auditchainhead (id, last_hash, last_event_id) VALUES (1, %s, 3)", [prev])
call_command("migrate", "audit", verbosity=0)
"""


def test_unkeyed_events_of_an_earlier_release_still_verify_after_the_upgrade(server):
    name, alias = f"{SCRATCH_DB}_upgrade", "audit_tamper_upgrade"
    with superuser(server) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    env = {**os.environ, "DATABASE_URL": _url(server, name), "AUDIT_CHAIN_KEY": signing_key().secret.decode()}
    subprocess.run([sys.executable, "manage.py", "shell", "-c", UPGRADE], cwd=ROOT, env=env, check=True, timeout=180)
    _register(alias, _url(server, name))
    try:
        from audit.models import AuditChainHead

        head = AuditChainHead.objects.using(alias).get()
        assert head.legacy_last_id == 3 and head.legacy_seal.startswith(signing_key().id + ":")
        assert audit_verify(using=alias).ok
        new = record(1, using=alias)[0]
        assert new.key_id == signing_key().id and new.prev_hash == head.last_hash
        result = audit_verify(using=alias)
        assert result.ok and result.count == 4
        with superuser(server, name) as attacker:  # and the seal cannot be moved, even by the owner
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="legacy audit segment"):
                attacker.execute("UPDATE audit_auditchainhead SET legacy_last_id = 4")
    finally:
        _unregister(alias)
        with superuser(server) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
