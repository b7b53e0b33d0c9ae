from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.decorators.http import require_http_methods

from marketplace.accounts import services
from marketplace.accounts.forms import EmailAuthenticationForm, ProfileForm, SignUpForm
from marketplace.accounts.hooks import after_login_run
from marketplace.accounts.ratelimit import LoginThrottle
from marketplace.errors import DomainError


@require_http_methods(["GET", "POST"])
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


class LoginView(auth_views.LoginView):
    """Django's login, refusing attempts while the email or client address is throttled."""

    template_name = "accounts/login.html"
    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        throttle = LoginThrottle.for_request(request, request.POST.get("username", ""))
        if throttle.is_locked():
            # An unbound form: validating it would check the password, which is what we refuse.
            form = self.form_class(request, initial={"username": request.POST.get("username", "")})
            context = self.get_context_data(
                form=form,
                locked_message=(
                    "Too many failed sign-in attempts. For your security, sign-in is paused for "
                    f"{throttle.window_minutes()} minutes. You can reset your password meanwhile."
                ),
            )
            return self.render_to_response(context, status=429)
        self._throttle = throttle
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        self._throttle.record_failure()
        return super().form_invalid(form)

    def form_valid(self, form):
        self._throttle.record_success()
        response = super().form_valid(form)
        after_login_run(request=self.request, user=form.get_user())
        messages.success(self.request, f"Signed in as {form.get_user().email}.")
        return response


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
    email_template_name = "accounts/email/password_reset.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")

    @property
    def extra_email_context(self):
        # Without the sites framework Django would name the site after the request's host.
        return {"site_name": settings.MARKETPLACE_NAME}


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
@require_http_methods(["GET", "POST"])
def profile(request):
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        services.user_update_profile(user=request.user, full_name=form.cleaned_data["full_name"])
        messages.success(request, "Your profile has been saved.")
        return redirect("accounts:profile")
    return render(request, "accounts/profile.html", {"form": form})
