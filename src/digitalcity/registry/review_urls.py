"""URLs of the linkage review queue; registry/urls.py includes them (app_name registry)."""

from django.urls import URLPattern, path

from . import review_views

urlpatterns: list[URLPattern] = [
    path("links/", review_views.review_queue, name="review_queue"),
    path("links/<int:pk>/", review_views.review_detail, name="review_detail"),
    path("links/<int:pk>/decide/", review_views.review_decide, name="review_decide"),
]
