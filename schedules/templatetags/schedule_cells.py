"""The schedules table's cells as filters, for the lean row template."""
from django import template

from core.tables import status_badge

from .. import tables

register = template.Library()

register.filter("expression_cell", tables.expression_cell)
register.filter("next_run_cell", tables.next_run_cell)
register.filter("state_cell", tables.state_cell)
register.filter("target_cell", tables.target_cell)
register.filter("status_cell", status_badge)
