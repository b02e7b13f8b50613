"""Pages of the case engine (namespace "cases"), mounted at the site root."""

from django.urls import path

from . import views

app_name = "cases"
urlpatterns = [
    path("workbench/cases/queue/", views.queue, name="queue"),
    path("workbench/cases/<str:ref>/", views.case_page, name="case"),
    path(
        "workbench/cases/<str:ref>/transitions/<str:code>/",
        views.transition,
        name="transition",
    ),
    path(
        "workbench/cases/<str:ref>/tasks/<int:task_id>/<str:action>/",
        views.task_action,
        name="task_action",
    ),
    path(
        "workbench/cases/<str:ref>/clocks/<int:clock_id>/extend/",
        views.extend_clock,
        name="extend_clock",
    ),
    path("workbench/cases/<str:ref>/urge/", views.urge_issue, name="urge_issue"),
    path(
        "workbench/cases/<str:ref>/urges/<int:urge_id>/answer/",
        views.urge_answer,
        name="urge_answer",
    ),
    path(
        "workbench/cases/<str:ref>/rating-link/",
        views.send_rating_link,
        name="send_rating_link",
    ),
    path("workbench/supervision/", views.supervision, name="supervision"),
    path("workbench/supervision/export.xlsx", views.supervision_export, name="supervision_export"),
    path("my/cases/", views.my_cases, name="tracking"),
    path("my/cases/<str:ref>/rate/", views.rate_case, name="rate_case"),
    path("rate/<str:token>/", views.rate_link, name="rate_link"),
    # The path `cases.services.ratings.RATING_PATH` puts in the SMS.
    path("cases/rate/<str:token>/", views.rate_link, name="rate_link_sms"),
]
