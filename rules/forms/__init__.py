"""One form per step of the console's "Create rule" flow, with the console's own words.

Every form checks its fields against the same validator apply uses (rules.spec) and reports
errors at the field where they were typed. One module per step, as schedules/forms/:

    detail (Define rule detail) → pattern (Build event pattern) or schedule (Define schedule)
    → targets (Select target(s)) → tags (Configure tags)
"""
from .common import ANY, SPECIFIC
from .detail import CLOUDTRAIL_STATE, RuleDetailForm, rule_state
from .pattern import ALL_EVENTS_PATTERN, EventPatternForm
from .schedule import RuleScheduleForm
from .tags import TagForm, TagFormSet
from .targets import (
    CONSTANT, DLQ_NONE, DLQ_OTHER, DLQ_THIS, MATCHED, PART, TARGET_SERVICES, TARGET_TYPES, TRANSFORMER, TargetForm,
    TargetFormSet, hhmm_to_seconds, kind_of_arn, seconds_to_hhmm, target_entry,
)

__all__ = [
    "ALL_EVENTS_PATTERN", "ANY", "SPECIFIC", "CONSTANT", "DLQ_NONE", "DLQ_OTHER", "DLQ_THIS", "MATCHED", "PART",
    "TARGET_SERVICES", "TARGET_TYPES", "TRANSFORMER", "RuleDetailForm", "EventPatternForm", "RuleScheduleForm",
    "TargetForm", "TargetFormSet", "CLOUDTRAIL_STATE", "rule_state", "TagForm", "TagFormSet", "hhmm_to_seconds", "seconds_to_hhmm", "target_entry", "kind_of_arn",
]
