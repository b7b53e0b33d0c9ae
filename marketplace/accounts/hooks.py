"""Things other apps do right after a person signs in (for example orders merges the anonymous
cart into the user's). accounts sits below every app, so it cannot import them: they register a
function here from their AppConfig.ready() instead.

A hook is called as fn(request=request, user=user) after django.contrib.auth.login().
"""

from collections.abc import Callable

_after_login: list[Callable] = []


def after_login_register(fn: Callable) -> Callable:
    if fn not in _after_login:
        _after_login.append(fn)
    return fn


def after_login_run(*, request, user) -> None:
    for fn in _after_login:
        fn(request=request, user=user)
