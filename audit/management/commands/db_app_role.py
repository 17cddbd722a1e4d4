"""Create or update the least-privileged PostgreSQL role the app runs as.

Run it as the database owner (the role migrations run as), after every `migrate`:

    DATABASE_URL=postgres://owner@db/eventconsole python manage.py db_app_role eventconsole_app --password-env APP_DB_PASSWORD

The role can log in and read and write the app's tables, but it is no superuser, cannot create
databases or roles, does not bypass row security, owns no table and is no member of the owner, so
it cannot ALTER TABLE … DISABLE TRIGGER, drop the audit triggers or TRUNCATE. On the audit tables it
gets only SELECT and INSERT on events, and on the chain head INSERT plus UPDATE of the two columns
appending moves (the head's trigger lets it move only forward).
"""
from __future__ import annotations

import os

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

EVENTS, HEAD = "audit_auditevent", "audit_auditchainhead"
HEAD_COLUMNS = ("last_hash", "last_event_id")
READ_ONLY = ("django_migrations",)


def role_statements(name: str, *, database: str, schema: str, password: str | None, exists: bool,
                    quote) -> list[tuple[str, list]]:
    """The SQL, in order, with its parameters (only the password is one)."""
    role, db, sch = quote(name), quote(database), quote(schema)
    statements: list[tuple[str, list]] = []
    if not exists:
        statements.append((f"CREATE ROLE {role}", []))
    attributes = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT"
    if password is not None:
        statements.append((f"ALTER ROLE {role} {attributes} PASSWORD %s", [password]))
    else:
        statements.append((f"ALTER ROLE {role} {attributes}", []))
    statements += [(sql, []) for sql in (
        f"GRANT CONNECT ON DATABASE {db} TO {role}",
        f"GRANT USAGE ON SCHEMA {sch} TO {role}",
        f"REVOKE CREATE ON SCHEMA {sch} FROM {role}",
        # Start from nothing on every table (also clears column grants), then grant what the app uses.
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {sch} FROM {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {sch} TO {role}",
        f"REVOKE INSERT, UPDATE, DELETE ON {', '.join(f'{sch}.{quote(t)}' for t in READ_ONLY)} FROM {role}",
        f"REVOKE UPDATE, DELETE ON {sch}.{quote(EVENTS)} FROM {role}",
        f"REVOKE UPDATE, DELETE ON {sch}.{quote(HEAD)} FROM {role}",
        f"GRANT UPDATE ({', '.join(quote(c) for c in HEAD_COLUMNS)}) ON {sch}.{quote(HEAD)} TO {role}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {sch} FROM {role}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {sch} TO {role}",
    )]
    return statements


class Command(BaseCommand):
    help = ("Create or update the least-privileged PostgreSQL role the app runs as (run as the database owner, "
            "again after every migrate). --print-sql shows the statements without running them.")

    def add_arguments(self, parser):
        parser.add_argument("name", help="name of the role, e.g. eventconsole_app")
        parser.add_argument("--password-env", metavar="VAR",
                            help="set the role's password from this environment variable (never on the command line)")
        parser.add_argument("--print-sql", action="store_true", help="print the SQL and change nothing")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, name, password_env, print_sql, database, **options):
        connection = connections[database]
        if connection.vendor != "postgresql":
            raise CommandError("db_app_role is for PostgreSQL (DATABASE_URL=postgres://…); SQLite has no roles.")
        password = None
        if password_env:
            password = os.environ.get(password_env)
            if not password:
                raise CommandError(f"The environment variable {password_env} is empty or unset.")
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_database(), current_schema(), current_user, "
                           "EXISTS (SELECT 1 FROM pg_roles WHERE rolname = %s)", [name])
            db, schema, me, exists = cursor.fetchone()
            statements = role_statements(name, database=db, schema=schema, password=password, exists=exists,
                                         quote=quote)
            if print_sql:
                for sql, params in statements:
                    self.stdout.write((sql.replace("%s", "'…'") if params else sql) + ";")
                return
            if name == me:
                raise CommandError(f"{name} is the role this command runs as (the owner): the app needs its own role.")
            if exists:
                self._refuse_if_powerful(cursor, name, schema)
            for sql, params in statements:
                cursor.execute(sql, params or None)
            self._refuse_if_powerful(cursor, name, schema)
        self.stdout.write(self.style.SUCCESS(
            f"Role {name}: can log in; SELECT/INSERT/UPDATE/DELETE on the tables of {db}.{schema}, SELECT/INSERT only "
            f"on {EVENTS}, forward-only head; no superuser, owns no table. Run again after every migrate."))

    def _refuse_if_powerful(self, cursor, name: str, schema: str) -> None:
        """The app's role must own nothing and be no member of an owner: else it could switch triggers off."""
        cursor.execute("SELECT rolsuper, rolbypassrls, rolcreaterole FROM pg_roles WHERE rolname = %s", [name])
        row = cursor.fetchone()
        if row and any(row):
            raise CommandError(f"Role {name} is a superuser, bypasses row security or creates roles; refusing.")
        cursor.execute(
            "SELECT c.relname, pg_get_userbyid(c.relowner) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'S', 'v', 'm') "
            "AND pg_has_role(%s, c.relowner, 'MEMBER') ORDER BY 1 LIMIT 5", [schema, name])
        owned = cursor.fetchall()
        if owned:
            raise CommandError(
                f"Role {name} owns (or is a member of the owner of) {', '.join(f'{t} ({o})' for t, o in owned)}: "
                "it could disable the audit triggers. Give the app a role of its own, or REASSIGN OWNED BY it to the "
                "owner and REVOKE its membership.")
