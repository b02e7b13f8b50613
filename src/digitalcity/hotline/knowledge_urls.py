"""Knowledge base pages, included by hotline/urls.py under workbench/hotline/knowledge/
(names in the "hotline" namespace: hotline:knowledge_list, …)."""

from django.urls import path

from . import knowledge_views as views

urlpatterns = [
    path("", views.knowledge_list, name="knowledge_list"),
    path("new/", views.knowledge_new, name="knowledge_new"),
    path("import/", views.knowledge_import, name="knowledge_import"),
    path("import/errors.xlsx", views.knowledge_import_report, name="knowledge_import_report"),
    path("import/template.xlsx", views.knowledge_template, name="knowledge_template"),
    path("search/", views.knowledge_search, name="knowledge_search"),
    path("answer/", views.knowledge_answer, name="knowledge_answer"),
    path("<int:pk>/", views.knowledge_detail, name="knowledge_detail"),
    path("<int:pk>/edit/", views.knowledge_edit, name="knowledge_edit"),
    path("<int:pk>/<str:action>/", views.knowledge_action, name="knowledge_action"),
]
