from django.urls import include, path

from . import review_urls, views

app_name = "registry"

urlpatterns = [
    path("", views.search, name="workbench"),
    path("people/<int:pk>/", views.person_detail, name="person"),
    path("organizations/<int:pk>/", views.organization_detail, name="organization"),
    path("conflicts/", views.conflict_queue, name="conflicts"),
    path("conflicts/<int:pk>/resolve/", views.conflict_resolve, name="conflict_resolve"),
    path("batches/", views.batch_list, name="batches"),
    path("batches/<int:pk>/", views.batch_detail, name="batch"),
    path("batches/<int:pk>/progress/", views.batch_progress, name="batch_progress"),
    path("batches/<int:pk>/report.xlsx", views.batch_report, name="batch_report"),
    path("", include(review_urls)),  # the linkage review queue (R2): links/…
]
