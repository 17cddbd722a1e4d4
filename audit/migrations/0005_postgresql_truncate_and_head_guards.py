"""On PostgreSQL: refuse TRUNCATE of the audit tables, and guard the chain head.

The head is one row (id 1); it cannot be deleted, may only move forward, and must always name an
existing event with that event's hash; the legacy seal written by 0004 cannot change. These
triggers bind the app's role and the tables' owner alike (only a superuser, or the owner with
ALTER TABLE … DISABLE TRIGGER, gets past them: the app's role is neither, see `db_app_role`);
what gets past them is found by `verify_audit` through the keyed chain and the checkpoints.
"""
from django.db import migrations

FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION audit_refuse_truncate() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit tables cannot be truncated: TRUNCATE of % refused', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION audit_chain_head_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'the audit chain head cannot be deleted' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.id <> 1 THEN
        RAISE EXCEPTION 'the audit chain head is the one row with id 1' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'UPDATE' THEN
        IF NEW.legacy_last_id IS DISTINCT FROM OLD.legacy_last_id OR NEW.legacy_seal IS DISTINCT FROM OLD.legacy_seal THEN
            RAISE EXCEPTION 'the seal of the legacy audit segment cannot be changed'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF OLD.last_event_id IS NOT NULL AND (NEW.last_event_id IS NULL OR NEW.last_event_id < OLD.last_event_id) THEN
            RAISE EXCEPTION 'the audit chain head may only move forward (from % to %)', OLD.last_event_id,
                NEW.last_event_id USING ERRCODE = 'insufficient_privilege';
        END IF;
    END IF;
    IF NEW.last_event_id IS NULL THEN
        IF NEW.last_hash <> repeat('0', 64) THEN
            RAISE EXCEPTION 'an empty audit chain head must hold the genesis hash' USING ERRCODE = 'insufficient_privilege';
        END IF;
    ELSIF NOT EXISTS (SELECT 1 FROM audit_auditevent WHERE id = NEW.last_event_id AND hash = NEW.last_hash) THEN
        RAISE EXCEPTION 'the audit chain head must name an existing event and its hash (event %)', NEW.last_event_id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""
TRIGGERS = """
CREATE TRIGGER audit_auditevent_no_truncate BEFORE TRUNCATE ON audit_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_truncate();
CREATE TRIGGER audit_auditchainhead_no_truncate BEFORE TRUNCATE ON audit_auditchainhead
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_truncate();
CREATE TRIGGER audit_auditchainhead_guard BEFORE INSERT OR UPDATE OR DELETE ON audit_auditchainhead
    FOR EACH ROW EXECUTE FUNCTION audit_chain_head_guard();
"""
DROP = """
DROP TRIGGER IF EXISTS audit_auditchainhead_guard ON audit_auditchainhead;
DROP TRIGGER IF EXISTS audit_auditchainhead_no_truncate ON audit_auditchainhead;
DROP TRIGGER IF EXISTS audit_auditevent_no_truncate ON audit_auditevent;
DROP FUNCTION IF EXISTS audit_chain_head_guard();
DROP FUNCTION IF EXISTS audit_refuse_truncate();
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTIONS, params=None)  # no placeholders: the SQL contains literal %
        schema_editor.execute(TRIGGERS, params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_keyed_chain")]
    operations = [migrations.RunPython(create, drop)]
