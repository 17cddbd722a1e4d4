from django.urls import path

from . import views
from .batch_views import BatchProgressView

app_name = "changes"
urlpatterns = [
    path("", views.ReviewListView.as_view(), name="review_list"),
    path("<int:pk>/", views.ChangeDetailView.as_view(), name="change_detail"),
    path("<int:pk>/progress/", BatchProgressView.as_view(), name="change_progress"),
    path("<int:pk>/<slug:action>/", views.ChangeActionView.as_view(), name="change_action"),
]
