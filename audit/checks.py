"""System checks: the audit chain key must come from outside the database, and be strong enough."""
from django.conf import settings
from django.core.checks import Error, Warning, register

from .keys import MIN_KEY_LENGTH


@register("security")
def audit_chain_key_check(app_configs=None, **kwargs):
    key = (getattr(settings, "AUDIT_CHAIN_KEY", "") or "").strip()
    if not key:
        if getattr(settings, "LOCAL_MODE", False):
            return []
        return [Error("AUDIT_CHAIN_KEY is not set.",
                      hint="Set AUDIT_CHAIN_KEY in the environment of every web, worker and beat process (at least "
                           f"{MIN_KEY_LENGTH} random characters, e.g. `python -c 'import secrets; "
                           "print(secrets.token_hex(32))'`); keep it away from the database host. Without it "
                           "anyone with the database can rewrite the audit history undetected.",
                      id="audit.E001")]
    problems = []
    if len(key) < MIN_KEY_LENGTH:
        problems.append(Warning(f"AUDIT_CHAIN_KEY is shorter than {MIN_KEY_LENGTH} characters.",
                                hint="Use a long random value: python -c 'import secrets; print(secrets.token_hex(32))'",
                                id="audit.W001"))
    if key in [k.strip() for k in getattr(settings, "AUDIT_CHAIN_OLD_KEYS", [])]:
        problems.append(Warning("AUDIT_CHAIN_KEY is also listed in AUDIT_CHAIN_OLD_KEYS.", id="audit.W002"))
    return problems
