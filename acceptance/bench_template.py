"""The full-stack template's item routes, as published and as ported, side by side on one database.

Both apps run from their own copy of the backend (the published one from this
repository's history, with the two lines Python 3.11 needs) under uvicorn, one
worker each, on the same PostgreSQL database with 1,000 items. wrk replays the
same requests against each, as the superuser, in alternating rounds; medians
are shown, and the port's requests per second as a share of the template's.

    .venv-template/bin/python acceptance/bench_template.py     # needs wrk (apt-get install wrk)
"""

from __future__ import annotations

import http.client
import json
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "acceptance" / "full-stack-fastapi-template"
PUBLISHED = "750289b"  # the commit holding the template as published
SERVER = os.environ.get("TEMPLATE_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
LUA = ROOT / "bench" / "lua" / "requests.lua"
ITEMS = 1_000


def published_copy(folder: Path) -> Path:
    """The template's backend as published, with `except (A, B):` and `list["Item"]` for Python 3.11."""
    archive = subprocess.run(
        ["git", "archive", PUBLISHED, "acceptance/full-stack-fastapi-template"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout  # fmt: skip
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    backend = folder / "acceptance" / "full-stack-fastapi-template" / "backend"
    deps = backend / "app" / "api" / "deps.py"
    deps.write_text(
        deps.read_text().replace(
            "except InvalidTokenError, ValidationError:",
            "except (InvalidTokenError, ValidationError):",
        )
    )
    models = backend / "app" / "models.py"
    models.write_text(models.read_text().replace("list[Item]", 'list["Item"]'))
    return backend


@contextmanager
def serving(backend: Path, env: dict[str, str]) -> Iterator[str]:
    (backend / "app" / "frontend").mkdir(exist_ok=True)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [
        sys.executable, "-m", "uvicorn", "app.main:app", "--port", str(port),
        "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=backend, env={**env, "PYTHONPATH": str(backend)})
    try:
        for _ in range(300):
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                connection.request("GET", "/api/v1/utils/health-check/")
                if connection.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


def call(base: str, method: str, path: str, body: object = None, headers: dict[str, str] | None = None, form: dict[str, str] | None = None) -> object:
    url = urllib.parse.urlparse(base)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    sent = dict(headers or {})
    data: bytes | None = None
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        sent["Content-Type"] = "application/x-www-form-urlencoded"
    elif body is not None:
        data = json.dumps(body).encode()
        sent["Content-Type"] = "application/json"
    connection.request(method, path, body=data, headers=sent)
    response = connection.getresponse()
    payload = response.read()
    assert response.status == 200, (method, path, response.status, payload[:200])
    return json.loads(payload)


def wrk(base: str, lines: list[str], seconds: int = 5) -> float:
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as file:
        file.write("\n".join(lines) + "\n")
    warm = ["wrk", "-t1", "-c16", "-d2s", "-s", str(LUA), base, "--", file.name]
    subprocess.run(warm, capture_output=True, check=True)
    command = ["wrk", "-t1", "-c16", f"-d{seconds}s", "-s", str(LUA), base, "--", file.name]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    found = json.loads(next(line for line in out.splitlines() if line.startswith("{")))
    assert not any(found["errors"].values()), found["errors"]
    return float(found["requests"] / (found["duration_us"] / 1e6))


def main() -> int:
    name = f"fst_bench_{uuid.uuid4().hex[:8]}"
    password = secrets.token_urlsafe(16)
    env = {
        **os.environ,
        "DATABASE_URL": f"{SERVER}/{name}",
        "SECRET_KEY": secrets.token_urlsafe(32),
        "FIRST_SUPERUSER_PASSWORD": password,
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    ported = TEMPLATE / "backend"
    try:
        for step in (["-m", "alembic", "upgrade", "head"], ["app/initial_data.py"]):
            subprocess.run([sys.executable, *step], cwd=ported, env={**env, "PYTHONPATH": str(ported)}, check=True)
        with tempfile.TemporaryDirectory() as folder:
            published = published_copy(Path(folder))
            apps = {"template, as published": published, "template, ported": ported}
            with serving(ported, env) as base:
                token = call(base, "POST", "/api/v1/login/access-token", form={"username": "admin@example.com", "password": password})
                auth = {"Authorization": f"Bearer {token['access_token']}"}  # type: ignore[index]
                ids = [
                    call(base, "POST", "/api/v1/items/", {"title": f"Item {n}", "description": "d"}, auth)["id"]  # type: ignore[index]
                    for n in range(ITEMS)
                ]
            header = f"Authorization: Bearer {token['access_token']}"  # type: ignore[index]
            rng = random.Random(6)
            scenarios = {
                "read one item": [f"GET\t/api/v1/items/{rng.choice(ids)}\t\t{header}" for _ in range(2000)],
                "list 100 items": [f"GET\t/api/v1/items/?skip={rng.randrange(0, 900)}&limit=100\t\t{header}" for _ in range(2000)],
                "create an item": [f'POST\t/api/v1/items/\t{{"title":"New {n}"}}\t{header}' for n in range(2000)],
                "update an item": [f'PUT\t/api/v1/items/{rng.choice(ids)}\t{{"description":"x{n}"}}\t{header}' for n in range(2000)],
            }
            runs: dict[tuple[str, str], list[float]] = {}
            for round_ in range(2):
                order = list(apps) if round_ % 2 == 0 else list(apps)[::-1]
                for app in order:
                    with serving(apps[app], env) as base:
                        for scenario, lines in scenarios.items():
                            rps = wrk(base, lines)
                            runs.setdefault((scenario, app), []).append(rps)
                            print(f"round {round_ + 1} {app:24} {scenario:16} {rps:8.0f} req/s", flush=True)
        print("\n| scenario | template, as published | template, ported | ported / published |")
        print("|---|---:|---:|---:|")
        for scenario in scenarios:
            a = statistics.median(runs[(scenario, "template, as published")])
            b = statistics.median(runs[(scenario, "template, ported")])
            print(f"| {scenario} | {a:,.0f} | {b:,.0f} | {b / a:.2f}x |")
        return 0
    finally:
        with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


if __name__ == "__main__":
    sys.exit(main())
