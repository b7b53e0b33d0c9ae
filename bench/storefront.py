"""Storefront benchmark: the category, search and product pages against a trivial view (/ping),
under gunicorn on loopback, in one run, with a bounded Python load generator on the same machine.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/marketplace_bench
    .venv/bin/python bench/generate_catalog.py --products 100000   # once
    .venv/bin/python bench/storefront.py

For each endpoint: a warm-up, then a fixed time of load from keep-alive HTTP/1.1 clients
(http.client in threads, spread over a few processes so the generator's own GIL is not the
bottleneck), reporting requests per second, latency percentiles and the ratio to /ping, which is
measured first and last (the mean is the baseline). Queries per request are counted in-process
with CaptureQueriesContext, over the same kind of URLs. A second, single-connection pass reports
latency without queueing. Results go to stdout (a Markdown table) and, with --json, to a file.

Not part of the test suite. Loopback only: the generator refuses any other host.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import platform
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import asdict, dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
GUNICORN = str(Path(PYTHON).with_name("gunicorn"))
HOST = "127.0.0.1"


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument("--duration", type=float, default=15.0, help="seconds measured")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds before measuring")
    parser.add_argument(
        "--single-duration",
        type=float,
        default=5.0,
        help="seconds of the single-connection latency pass per page (0: skip it)",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, help="also write the results here")
    return parser.parse_args()


def bench_environment() -> dict[str, str]:
    """Production settings over plain HTTP on loopback (see the brief in docs/benchmarks.md)."""
    if not os.environ.get("DATABASE_URL"):
        sys.exit("Set DATABASE_URL (PostgreSQL with the generated catalog).")
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "marketplace.settings",
            "DJANGO_DEBUG": "0",
            "DJANGO_SECURE_SSL_REDIRECT": "0",
            "ALLOWED_HOSTS": HOST,
            "LOG_LEVEL": "WARNING",
        }
    )
    env.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))
    return env


# --- URLs -----------------------------------------------------------------------------------------


def typo(word: str, rng: random.Random) -> str:
    """One plausible slip: a dropped or doubled letter, or two neighbours swapped."""
    position = rng.randrange(1, len(word) - 1)
    kind = rng.choice(["drop", "double", "swap"])
    if kind == "drop":
        return word[:position] + word[position + 1 :]
    if kind == "double":
        return word[:position] + word[position] + word[position:]
    return word[: position - 1] + word[position] + word[position - 1] + word[position + 1 :]


def build_urls(rng: random.Random) -> dict[str, list[str]]:
    """Run in-process after django.setup(): real categories, products and words of the catalog."""
    from generate_catalog import (  # bench/, next to this file
        COLOURS,
        MATERIALS_BY_CATEGORY,
        NOUNS,
        STYLES,
    )

    from catalog import selectors
    from catalog.models import Brand

    tree = selectors.category_tree()
    category_ids = set(
        selectors.storefront_visible_products().values_list("category_id", flat=True).distinct()
    )
    with_products = {
        node.slug
        for node in tree.nodes.values()
        if any(i in category_ids for i in tree.subtree_ids(node.id))
    }
    categories = [f"/c/{slug}/" for slug in sorted(with_products)]

    brands = [brand.name for brand in Brand.objects.filter(slug__startswith="bench-")[:60]]
    as_typed, typos = [], []
    for _ in range(300):
        slug = rng.choice(sorted(NOUNS))
        noun = rng.choice(NOUNS[slug])
        kind = rng.random()
        if kind < 0.40:  # what people type most: the thing itself
            query = noun
        elif kind < 0.60:
            query = f"{rng.choice(MATERIALS_BY_CATEGORY[slug])} {noun}"
        elif kind < 0.75:
            query = rng.choice(brands)
        elif kind < 0.90:
            query = rng.choice(STYLES + MATERIALS_BY_CATEGORY[slug])
        else:
            query = f"{rng.choice(COLOURS)} {noun}"
        longest = max(query.split(), key=len)
        if rng.random() < 0.5 and len(longest) >= 5:  # half carry a typo in their longest word
            typos.append(query.replace(longest, typo(longest, rng), 1))
        else:
            as_typed.append(query)

    def search_urls(queries):
        return [f"/search/?{urllib.parse.urlencode({'q': q})}" for q in queries]

    sample = list(
        selectors.storefront_visible_products()
        .order_by("?")
        .only("id", "title")[:300]
        .values_list("id", "title")
    )
    products = [f"/p/{product_id}/{selectors.product_slug(title)}/" for product_id, title in sample]
    return {
        "/ping": ["/ping"],
        "category page": categories,
        "search page": search_urls(as_typed + typos),
        "product page": products,
        # For the single-connection pass: where search spends its time.
        "search, words as typed": search_urls(as_typed),
        "search, with a typo": search_urls(typos),
    }


def count_queries(urls: dict[str, list[str]], per_endpoint: int = 12) -> dict[str, list[int]]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST=HOST)
    counts: dict[str, list[int]] = {}
    for name, endpoint_urls in urls.items():
        counts[name] = []
        step = max(1, len(endpoint_urls) // per_endpoint)  # spread over the list's kinds
        for url in endpoint_urls[::step][:per_endpoint]:
            with CaptureQueriesContext(connection) as captured:
                response = client.get(url)
            if response.status_code != 200:
                raise SystemExit(f"{url} answered {response.status_code} in-process")
            counts[name].append(len(captured))
    return counts


def describe_counts(counts: list[int]) -> str:
    return str(counts[0]) if min(counts) == max(counts) else f"{min(counts)}-{max(counts)}"


# --- Load generator -----------------------------------------------------------------------------


def _client_thread(port, urls, seed, warmup_until, stop_at, latencies, errors):
    rng = random.Random(seed)  # noqa: S311 - which URL to load next, not a secret
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    while True:
        now = time.perf_counter()
        if now >= stop_at:
            break
        url = rng.choice(urls)
        started = time.perf_counter()
        try:
            connection.request("GET", url, headers={"Host": HOST})
            response = connection.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            connection.close()  # reopened by the next request
            status = 0
        finished = time.perf_counter()
        if started >= warmup_until and finished <= stop_at:
            if status == 200:
                latencies.append(finished - started)
            else:
                errors.append(status)
    connection.close()


def _client_process(port, urls, threads, seed, warmup, duration, results):
    start = time.perf_counter()
    warmup_until, stop_at = start + warmup, start + warmup + duration
    latencies: list[float] = []
    errors: list[int] = []
    workers = [
        threading.Thread(
            target=_client_thread,
            args=(port, urls, seed * 1000 + n, warmup_until, stop_at, latencies, errors),
        )
        for n in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    results.put((latencies, errors))


@dataclass
class Result:
    endpoint: str
    connections: int
    requests: int
    errors: int
    requests_per_second: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    queries_per_request: str = ""
    ratio_to_ping: float | None = None
    extra: dict = field(default_factory=dict)


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))
    return sorted_values[index]


def drive(name, port, urls, *, connections, processes, warmup, duration, seed) -> Result:
    processes = max(1, min(processes, connections))
    per_process = [
        connections // processes + (i < connections % processes) for i in range(processes)
    ]
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    clients = [
        context.Process(
            target=_client_process,
            args=(port, urls, threads, seed + n, warmup, duration, results),
        )
        for n, threads in enumerate(per_process)
    ]
    for client in clients:
        client.start()
    latencies: list[float] = []
    errors: list[int] = []
    for _ in clients:
        client_latencies, client_errors = results.get()
        latencies += client_latencies
        errors += client_errors
    for client in clients:
        client.join()
    latencies.sort()
    return Result(
        endpoint=name,
        connections=connections,
        requests=len(latencies),
        errors=len(errors),
        requests_per_second=len(latencies) / duration,
        p50_ms=percentile(latencies, 0.50) * 1000,
        p95_ms=percentile(latencies, 0.95) * 1000,
        p99_ms=percentile(latencies, 0.99) * 1000,
    )


# --- Server ---------------------------------------------------------------------------------------


def start_gunicorn(env, port: int, workers: int) -> subprocess.Popen:
    command = [
        GUNICORN,
        "marketplace.wsgi:application",
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--bind",
        f"{HOST}:{port}",
        "--backlog",
        "2048",
        "--log-level",
        "warning",
    ]
    server = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env)  # noqa: S603
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection(HOST, port, timeout=1)
            connection.request("GET", "/ping", headers={"Host": HOST})
            if connection.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("gunicorn did not answer /ping within 30 s")


def machine_description() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{os.cpu_count()} CPUs ({cpu}){memory}, {platform.system()} {platform.release()}"


def markdown_table(results: list[Result]) -> str:
    lines = [
        "| endpoint | connections | req/s | vs /ping | p50 ms | p95 ms | p99 ms | queries/request | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        ratio = f"{r.ratio_to_ping:.0%}" if r.ratio_to_ping is not None else ""
        lines.append(
            f"| {r.endpoint} | {r.connections} | {r.requests_per_second:,.0f} | {ratio} | "
            f"{r.p50_ms:.1f} | {r.p95_ms:.1f} | {r.p99_ms:.1f} | {r.queries_per_request} | "
            f"{r.errors} |"
        )
    return "\n".join(lines)


def main() -> None:
    arguments = parse_arguments()
    env = bench_environment()
    static_root = tempfile.mkdtemp(prefix="bench-static-")
    env["STATIC_ROOT"] = static_root
    os.environ.update(env)
    subprocess.run(  # noqa: S603
        [PYTHON, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=PROJECT_ROOT,
        env=env,
        check=True,
    )

    sys.path[:0] = [str(PROJECT_ROOT), str(Path(__file__).resolve().parent)]
    import django

    django.setup()
    from django.db import connection

    if connection.vendor != "postgresql":
        print("Warning: not PostgreSQL; the targets are stated for PostgreSQL.")
    rng = random.Random(arguments.seed)  # noqa: S311 - reproducible URL choice
    urls = build_urls(rng)
    query_counts = count_queries(urls)
    connection.close()  # no open connection inherited by the forked clients

    server = start_gunicorn(env, arguments.port, arguments.workers)
    results: list[Result] = []
    try:
        order = ["/ping", "category page", "search page", "product page", "/ping"]
        for index, name in enumerate(order):
            print(f"Driving {name} ({arguments.connections} connections)…", flush=True)
            result = drive(
                name,
                arguments.port,
                urls[name],
                connections=arguments.connections,
                processes=arguments.client_processes,
                warmup=arguments.warmup,
                duration=arguments.duration,
                seed=arguments.seed + index,
            )
            result.queries_per_request = describe_counts(query_counts[name])
            results.append(result)
        if arguments.single_duration > 0:
            single_pass = [
                "category page",
                "search page",
                "search, words as typed",
                "search, with a typo",
                "product page",
            ]
            for index, name in enumerate(single_pass):
                print(f"Driving {name} (1 connection)…", flush=True)
                single = drive(
                    name,
                    arguments.port,
                    urls[name],
                    connections=1,
                    processes=1,
                    warmup=1.0,
                    duration=arguments.single_duration,
                    seed=arguments.seed + 100 + index,
                )
                single.queries_per_request = describe_counts(query_counts[name])
                results.append(single)
    finally:
        server.terminate()
        server.wait(timeout=30)

    ping_runs = [r for r in results if r.endpoint == "/ping"]
    baseline = statistics.mean(r.requests_per_second for r in ping_runs)
    for r in results:
        if r.connections == arguments.connections:
            r.ratio_to_ping = r.requests_per_second / baseline
    print()
    print(f"Machine: {machine_description()}")
    print(f"Baseline /ping: {baseline:,.0f} req/s (mean of the first and last /ping runs)")
    print(markdown_table(results))
    if arguments.json:
        arguments.json.write_text(
            json.dumps(
                {
                    "machine": machine_description(),
                    "arguments": {k: str(v) for k, v in vars(arguments).items()},
                    "baseline_ping_rps": baseline,
                    "results": [asdict(r) for r in results],
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
