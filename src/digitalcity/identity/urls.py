from django.urls import path

from . import views

app_name = "identity"
urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("login/sms-code/", views.sms_code_view, name="sms_code"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("me/", views.profile_view, name="profile"),
    path("me/reveal/<str:field>/", views.reveal_view, name="reveal"),
    path("users/<int:pk>/reveal/<str:field>/", views.reveal_view, name="reveal_user"),
]
