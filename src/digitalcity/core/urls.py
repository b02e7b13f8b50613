from django.urls import path

from . import views

app_name = "core"
urlpatterns = [path("files/<int:pk>/", views.download_file, name="download_file")]
