from django.urls import path

from . import views

app_name = "tail"
urlpatterns = [
    path("", views.TailListView.as_view(), name="tail_list"),
    path("start/", views.TailStartView.as_view(), name="tail_start"),
    path("send/", views.SendTestEventView.as_view(), name="send_test_event"),
    path("<int:pk>/", views.TailDetailView.as_view(), name="tail_detail"),
    path("<int:pk>/events/", views.TailEventsView.as_view(), name="tail_events"),
    path("<int:pk>/stop/", views.TailStopView.as_view(), name="tail_stop"),
]
