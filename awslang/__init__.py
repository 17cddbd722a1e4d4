"""EventBridge's own languages, in pure Python: no Django, no AWS calls.

- ``awslang.patterns``: event patterns (validate, compile, match, explain, and an index that finds
  every rule matching an event).
- ``awslang.transform``: what a rule target receives (``Input``, ``InputPath``, ``InputTransformer``).
- ``awslang.expressions``: schedule expressions (``at()``, ``rate()``, ``cron()``): parse, validate,
  describe and the next runs in a time zone.

Both kinds import from here (rules use patterns, transform and expressions for scheduled rules;
schedules use expressions), so neither kind imports the other for them. This is a plain package,
not a Django app: every module imports without Django being installed or set up, and depends on
nothing of the project but ``core.safejson`` (itself free of Django).
"""
