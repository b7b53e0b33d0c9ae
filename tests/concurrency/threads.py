"""Running the same action from several threads at once, as double-clicks, retries and two
tabs do; each thread has its own database connection."""

import threading

from django.db import connection
from django.test import Client


def run_at_once(count: int, action) -> list:
    """`action(index)` in `count` threads released together; their results, or the test fails
    on any exception (a 500 raises in the test client)."""
    start = threading.Barrier(count)
    results: list = [None] * count
    errors: list[BaseException] = []

    def run(index):
        try:
            start.wait()
            results[index] = action(index)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return results


def signed_in_clients(user, count: int) -> list[Client]:
    """`count` clients sharing one browser session (one tab double-clicking, or several tabs)."""
    first = Client()
    first.force_login(user)
    clients = [first]
    for _ in range(count - 1):
        other = Client()
        other.cookies = first.cookies
        clients.append(other)
    return clients
