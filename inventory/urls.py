from django.urls import path

from . import discovery_views, views

app_name = "inventory"
urlpatterns = [
    path("", views.search, name="search"),
    path("environments/<int:pk>/discovery/", discovery_views.DiscoveryPanelView.as_view(), name="discovery_panel"),
    path("environments/<int:pk>/discover/", discovery_views.DiscoveryStartView.as_view(), name="discovery_start"),
]
