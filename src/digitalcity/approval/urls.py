"""Pages of the approval service (namespace "approval"), mounted under /approval/."""

from django.urls import path

from . import views

app_name = "approval"
urlpatterns = [
    path("", views.portal_index, name="portal_index"),
    path("items/citizen/", views.citizen_items, name="citizen_items"),
    path("items/enterprise/", views.enterprise_items, name="enterprise_items"),
    path("items/<str:code>/", views.item_page, name="item"),
    path("items/<str:code>/apply/", views.apply, name="apply"),
    path(
        "items/<str:code>/templates/<str:material>/",
        views.material_template,
        name="material_template",
    ),
    path("my/", views.my_applications, name="my_applications"),
    path("my/<int:pk>/", views.my_application, name="my_application"),
    path("my/<int:pk>/correct/", views.correct, name="correct"),
    path("my/<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("licences/<int:pk>/pdf/", views.licence_download, name="licence_pdf"),
    path("verify/<str:number>/", views.verify, name="verify"),
    path("files/<int:pk>/", views.material_file, name="material_file"),
    path("workbench/", views.workbench, name="workbench"),
    path("workbench/<int:pk>/", views.handle, name="handle"),
    path("workbench/<int:pk>/<str:action>/", views.act, name="act"),
    path("workbench-licences/", views.licence_search, name="licences"),
    path("workbench-licences/<int:pk>/revoke/", views.licence_revoke, name="licence_revoke"),
    path("supervision/", views.supervision, name="supervision"),
    path("supervision/export.xlsx", views.supervision_export, name="supervision_export"),
    path("catalog/", views.catalog, name="catalog"),
    path("catalog/export.xlsx", views.catalog_export, name="catalog_export"),
]
