from django.contrib import admin, messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required, login_required
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from marketplace.accounts import services
from marketplace.accounts.forms import (
    EmailAuthenticationForm,
    PasswordResetForm,
    ProfileForm,
    SignUpForm,
)
from marketplace.accounts.hooks import after_login_run
from marketplace.accounts.ratelimit import PasswordResetThrottle, PasswordResetThrottled
from marketplace.errors import DomainError


@require_http_methods(["GET", "HEAD", "POST"])
def sign_up(request):
    if request.user.is_authenticated:
        return redirect("accounts:profile")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_sign_up(
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password1"],
                full_name=form.cleaned_data["full_name"],
            )
        except DomainError as error:
            form.add_error("email", error.message)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            after_login_run(request=request, user=user)
            messages.success(request, f"Welcome, {user.get_short_name()}! Your account is ready.")
            return redirect("storefront:home")
    return render(request, "accounts/sign_up.html", {"form": form})


def _too_many_requests_when_throttled(response):
    """429 for a sign-in page whose form the login throttle refused (ThrottledAuthenticationMixin)."""
    form = (getattr(response, "context_data", None) or {}).get("form")
    if getattr(form, "throttled", False):
        response.status_code = 429
    return response


class LoginView(auth_views.LoginView):
    """Django's login; EmailAuthenticationForm checks the password through the login throttle."""

    template_name = "accounts/login.html"
    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True

    def form_invalid(self, form):
        return _too_many_requests_when_throttled(super().form_invalid(form))

    def form_valid(self, form):
        response = super().form_valid(form)
        after_login_run(request=self.request, user=form.get_user())
        messages.success(self.request, f"Signed in as {form.get_user().email}.")
        return response


@never_cache
@login_not_required
def admin_login(request):
    """The admin site's login page, routed ahead of admin.site.urls (marketplace/urls.py).

    The admin's own view does the work with the throttled form that admin.py gives the site; this
    only adds the 429 that /accounts/login/ answers, which the admin's view has no hook for.
    """
    return _too_many_requests_when_throttled(admin.site.login(request))


class LogoutView(auth_views.LogoutView):
    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        messages.info(request, "You are signed out.")
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:profile")

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, "Your password has been changed.")
        return response


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset.html"
    form_class = PasswordResetForm  # sends through marketplace.notifications
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form):
        # Counted for every valid request, whether or not an account has the address, so the
        # answers (the "sent" page, or this refusal) never tell which addresses are registered.
        throttle = PasswordResetThrottle.for_request(self.request, form.cleaned_data["email"])
        try:
            throttle.count_request()
        except PasswordResetThrottled as error:
            form.add_error(None, error.message)
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().form_valid(form)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:login")

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, "Your password has been set. You can sign in now.")
        return response


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def profile(request):
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        services.user_update_profile(user=request.user, full_name=form.cleaned_data["full_name"])
        messages.success(request, "Your profile has been saved.")
        return redirect("accounts:profile")
    return render(request, "accounts/profile.html", {"form": form})
