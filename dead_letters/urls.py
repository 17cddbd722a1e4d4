from django.urls import path

from . import views

app_name = "dead_letters"
urlpatterns = [
    path("<int:pk>/", views.PeekView.as_view(), name="peek"),
    path("<int:pk>/redrive/", views.RedriveView.as_view(), name="redrive"),
    path("<slug:kind>/<int:pk>/panel/", views.PanelView.as_view(), name="panel"),
    path("<slug:kind>/<int:pk>/refresh/", views.RefreshView.as_view(), name="refresh"),
]
