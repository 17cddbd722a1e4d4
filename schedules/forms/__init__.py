"""One form per step of the console's "Create schedule" flow, with the console's own words.

Each form builds its part of the spec and checks it with the same validator apply uses
(schedules.spec.validate_schedule_spec), reporting every error at the field where it was typed.
"""
from .common import map_spec_errors
from .detail import ScheduleDetailForm
from .settings import ScheduleSettingsForm
from .target import ScheduleTargetForm

__all__ = ["ScheduleDetailForm", "ScheduleTargetForm", "ScheduleSettingsForm", "map_spec_errors"]
