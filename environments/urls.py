from django.urls import path

from . import views

app_name = "environments"
urlpatterns = [
    path("", views.EnvironmentListView.as_view(), name="environment_list"),
    path("add/", views.EnvironmentCreateView.as_view(), name="environment_add"),
    path("<int:pk>/", views.EnvironmentDetailView.as_view(), name="environment_detail"),
    path("<int:pk>/edit/", views.EnvironmentUpdateView.as_view(), name="environment_edit"),
    path("<int:pk>/delete/", views.EnvironmentDeleteView.as_view(), name="environment_delete"),
    path("<int:pk>/test-connection/", views.EnvironmentTestConnectionView.as_view(), name="environment_test"),
]
