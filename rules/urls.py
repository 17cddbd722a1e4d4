from django.urls import path

from . import views
from .wizard import RuleWizardView

app_name = "rules"
urlpatterns = [
    path("", views.RuleListView.as_view(), name="rule_list"),
    path("new/", views.RuleCreateView.as_view(), name="rule_add"),
    path("batch/<slug:action>/", views.RuleBatchView.as_view(), name="rule_batch"),
    path("sandbox/", views.SandboxView.as_view(), name="sandbox"),
    path("match/", views.EventMatchView.as_view(), name="event_match"),
    path("<int:pk>/", views.RuleDetailView.as_view(), name="rule_detail"),
    path("<int:pk>/delete/", views.RuleDeleteView.as_view(), name="rule_delete"),
    path("<int:pk>/<slug:action>/", views.RuleActionView.as_view(), name="rule_action"),
    path("drafts/<int:pk>/discard/", views.DraftDiscardView.as_view(), name="draft_discard"),
    path("drafts/<int:pk>/pattern-preview/", views.PatternPreviewView.as_view(), name="pattern_preview"),
    path("drafts/<int:pk>/pattern-test/", views.PatternTestView.as_view(), name="pattern_test"),
    path("drafts/<int:pk>/schedule-preview/", views.SchedulePreviewView.as_view(), name="schedule_preview"),
    path("drafts/<int:pk>/targets/<slug:index>/preview/", views.TargetPreviewView.as_view(), name="target_preview"),
    path("drafts/<int:pk>/<slug:step>/", RuleWizardView.as_view(), name="draft_step"),
]
