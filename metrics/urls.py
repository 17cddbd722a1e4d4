from django.urls import path

from . import views

app_name = "metrics"
urlpatterns = [
    path("environments/<int:pk>/refresh/", views.RefreshView.as_view(), name="refresh"),
    path("schedule-groups/<int:pk>/<str:group>/", views.ScheduleGroupView.as_view(), name="schedule_group"),
]
