from django.urls import path

from . import views
from .wizard import ScheduleWizardView

app_name = "schedules"
urlpatterns = [
    path("", views.ScheduleListView.as_view(), name="schedule_list"),
    path("new/", views.ScheduleCreateView.as_view(), name="schedule_add"),
    path("batch/<slug:action>/", views.ScheduleBatchView.as_view(), name="schedule_batch"),
    path("upcoming/", views.UpcomingView.as_view(), name="upcoming"),
    path("<int:pk>/", views.ScheduleDetailView.as_view(), name="schedule_detail"),
    path("<int:pk>/delete/", views.ScheduleDeleteView.as_view(), name="schedule_delete"),
    path("<int:pk>/run/", views.ScheduleRunNowView.as_view(), name="schedule_run"),
    path("<int:pk>/<slug:action>/", views.ScheduleActionView.as_view(), name="schedule_action"),
    path("drafts/<int:pk>/discard/", views.DraftDiscardView.as_view(), name="draft_discard"),
    path("drafts/<int:pk>/preview/", views.SchedulePreviewView.as_view(), name="schedule_preview"),
    path("drafts/<int:pk>/<slug:step>/", ScheduleWizardView.as_view(), name="draft_step"),
]
