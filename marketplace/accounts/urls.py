"""Accounts' URL group, a `(patterns, namespace)` pair mounted at /accounts/."""

from django.urls import path

from marketplace.accounts import views

account_patterns = (
    [
        path("signup/", views.sign_up, name="sign_up"),
        path("login/", views.LoginView.as_view(), name="login"),
        path("logout/", views.LogoutView.as_view(), name="logout"),
        path("profile/", views.profile, name="profile"),
        path("password/change/", views.PasswordChangeView.as_view(), name="password_change"),
        path("password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
        path(
            "password/reset/sent/",
            views.PasswordResetDoneView.as_view(),
            name="password_reset_done",
        ),
        path(
            "password/reset/<uidb64>/<token>/",
            views.PasswordResetConfirmView.as_view(),
            name="password_reset_confirm",
        ),
    ],
    "accounts",
)
