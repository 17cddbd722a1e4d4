from django.urls import path

from . import views

app_name = "changes"
urlpatterns = [
    path("", views.ReviewListView.as_view(), name="review_list"),
    path("<int:pk>/", views.ChangeDetailView.as_view(), name="change_detail"),
    path("<int:pk>/<slug:action>/", views.ChangeActionView.as_view(), name="change_action"),
]
