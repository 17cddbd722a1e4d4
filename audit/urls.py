from django.urls import path

from . import views

app_name = "audit"
urlpatterns = [
    path("", views.AuditEventListView.as_view(), name="event_list"),
    path("<int:pk>/", views.AuditEventDetailView.as_view(), name="event_detail"),
    path("history/<slug:object_type>/<int:object_id>/", views.ObjectHistoryView.as_view(), name="object_history"),
]
