"""Pages of the 12345 hotline (namespace "hotline"), mounted at the site root."""

from django.urls import include, path

from . import views

app_name = "hotline"
urlpatterns = [
    path("hotline/", views.portal_index, name="portal_index"),
    path("hotline/orders/<str:ref>/", views.portal_order, name="portal_order"),
    path("workbench/hotline/", views.workbench, name="workbench"),
    path("workbench/hotline/console/", views.console, name="console"),
    path("workbench/hotline/console/call/", views.console_call, name="console_call"),
    path("workbench/hotline/console/history/", views.console_history, name="console_history"),
    path("workbench/hotline/figures/", views.figures, name="figures"),
    path("workbench/hotline/figures/export.xlsx", views.figures_export, name="figures_export"),
    path("workbench/hotline/catalogue/", views.catalogue, name="catalogue"),
    path(
        "workbench/hotline/catalogue/export.xlsx", views.catalogue_export, name="catalogue_export"
    ),
    path(
        "workbench/hotline/extensions/<int:pk>/decide/",
        views.extension_decide,
        name="extension_decide",
    ),
    path("workbench/hotline/knowledge/", include("digitalcity.hotline.knowledge_urls")),  # open311
    path("workbench/hotline/orders/<str:ref>/", views.order_page, name="order"),
    path("workbench/hotline/orders/<str:ref>/<str:action>/", views.order_action, name="action"),
]
