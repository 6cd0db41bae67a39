"""The server's idle memory: Stance under gunicorn against a bare Django project.

gunicorn (3 sync workers) serves Stance on a freshly migrated SQLite database, then a bare
Django project (`django-admin startproject` in a temporary folder, one view at /, DEBUG
off) the same way, both from the same Python environment. Each worker answers a request
(its URLconf imported, as a worker that has served is); after 2 s the RSS of the process
tree (master + workers, VmRSS from /proc) is summed, with PSS beside it and any of numpy,
scipy, sklearn, pandas, statsmodels a worker has mapped. Target: Stance at most 1.5 x the
bare project.

What a production server carries is what requirements.txt installs, so by default the
benchmark first builds that environment in a temporary folder (`pip install -r
requirements.txt`, about a minute, from the package registry or its cache). The
development .venv also holds the test packages (schemathesis brings requests, pytest
brings pygments), which Django REST Framework imports when it finds them, so measuring
with it overstates a server's memory by several MB a worker:

    .venv/bin/python benchmarks/memory.py                       # a production environment
    .venv/bin/python benchmarks/memory.py --venv /tmp/stance-prod  # build it there once, reuse it
    .venv/bin/python benchmarks/memory.py --python .venv/bin/python  # the development one

Exit code 1 if the target is missed.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness

ROOT = harness.ROOT
RSS_TARGET = 1.5
HEAVY = ("numpy", "scipy", "sklearn", "pandas", "statsmodels")
WORKERS = 3


def _tree(pid: int) -> list[int]:
    found = [pid]
    for child in _children(pid):
        found += _tree(child)
    return found


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _status_kb(pid: int, field_name: str, source: str = "status") -> int:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/{source}").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    return 0


def _heavy_modules(pid: int) -> set[str]:
    try:
        maps = Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return set()
    return {
        name for name in HEAVY if f"site-packages/{name}/" in maps or f"site-packages/{name}.libs/" in maps
    }


@dataclass
class Idle:
    rss_kb: list[int]  # master first
    pss_kb: int
    heavy: set[str]
    served_by: int  # workers that answered a request

    @property
    def rss_mb(self) -> float:
        return sum(self.rss_kb) / 1024


def idle_memory(*, python: Path, app: str, cwd: Path, env: dict[str, str], path: str, workdir: Path) -> Idle:
    """gunicorn with WORKERS sync workers; each answers a request; then the tree's memory."""
    port = harness.free_port()
    access = workdir / f"access-{port}.log"
    log = workdir / f"gunicorn-{port}.log"
    command = [
        str(python), "-m", "gunicorn", app, "--workers", str(WORKERS), "--bind", f"127.0.0.1:{port}",
        "--access-logfile", str(access), "--access-logformat", "%(p)s %(s)s", "--timeout", "60",
    ]  # fmt: skip
    server = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=log.open("w"))
    url = f"http://127.0.0.1:{port}{path}"

    def get() -> None:
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=10) as response:
            response.read()

    try:
        deadline = time.monotonic() + 60
        while len(_children(server.pid)) < WORKERS or not access.exists() or not access.read_text():
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn ({app}) did not come up:\n{log.read_text()[-2000:]}")
            get()
            time.sleep(0.2)
        workers = set(_children(server.pid))
        with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
            for _ in range(100):  # bursts of concurrent requests until every worker answered one
                served = {int(p) for p in re.findall(r"<(\d+)>", access.read_text())}
                if workers <= served:
                    break
                list(pool.map(lambda _: get(), range(WORKERS * 2)))
        time.sleep(2)
        pids = _tree(server.pid)
        return Idle(
            rss_kb=[_status_kb(pid, "VmRSS") for pid in pids],
            pss_kb=sum(_status_kb(pid, "Pss", "smaps_rollup") for pid in pids),
            heavy=set().union(*(_heavy_modules(pid) for pid in pids)),
            served_by=len(workers & served),
        )
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


def bare_project(folder: Path, python: Path) -> Path:
    """`django-admin startproject bare` with one view at / and DEBUG off."""
    folder.mkdir()
    subprocess.run(
        [str(python), "-m", "django", "startproject", "bare", str(folder)], check=True, capture_output=True
    )
    (folder / "bare" / "urls.py").write_text(
        "from django.contrib import admin\n"
        "from django.http import HttpResponse\n"
        "from django.urls import path\n\n\n"
        "def hello(request):\n"
        '    return HttpResponse("Hello")\n\n\n'
        'urlpatterns = [path("", hello), path("admin/", admin.site.urls)]\n'
    )
    with (folder / "bare" / "settings.py").open("a") as settings:
        settings.write('\nDEBUG = False\nALLOWED_HOSTS = ["127.0.0.1", "localhost"]\n')
    return folder


def production_python(venv: Path) -> Path:
    """The interpreter of a venv holding requirements.txt only (built when missing)."""
    python = venv / "bin" / "python"
    stamp = venv / ".requirements"
    wanted = (ROOT / "requirements.txt").read_text()
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return python
    print(f"building a production environment in {venv} (pip install -r requirements.txt) ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "-r", str(ROOT / "requirements.txt")],
        check=True,
    )
    stamp.write_text(wanted)
    return python


def measure_memory(python: Path, workdir: Path) -> tuple[Idle, Idle]:
    env = {key: value for key, value in os.environ.items() if key not in ("SQLITE_PATH", "DATABASE_URL")}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    stance_env = {**env, **harness.SERVER_ENV, "SQLITE_PATH": str(workdir / "memory.sqlite3")}
    subprocess.run(
        [str(python), "manage.py", "migrate", "--noinput"], cwd=ROOT, env=stance_env, check=True,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    stance = idle_memory(
        python=python, app="stance.wsgi", cwd=ROOT, env=stance_env, path="/accounts/login/", workdir=workdir
    )
    folder = bare_project(workdir / "bare", python)
    bare = idle_memory(
        python=python, app="bare.wsgi", cwd=folder, env={**env, "DJANGO_SETTINGS_MODULE": "bare.settings"},
        path="/", workdir=workdir,
    )  # fmt: skip
    return stance, bare


def print_memory(stance: Idle, bare: Idle) -> bool:
    def line(name: str, idle: Idle) -> str:
        parts = " + ".join(f"{kb / 1024:.0f}" for kb in idle.rss_kb)
        heavy = ", ".join(sorted(idle.heavy)) or "none"
        return (
            f"{name:<26}{idle.rss_mb:>8.0f} MB RSS ({parts}; master first), PSS {idle.pss_kb / 1024:.0f} MB, "
            f"{idle.served_by}/{WORKERS} workers served a request; mapped: {heavy}"
        )

    ratio = stance.rss_mb / bare.rss_mb
    ok = ratio <= RSS_TARGET
    print(f"\nidle memory, gunicorn with {WORKERS} sync workers (sum of RSS over the process tree)")
    print(line("Stance (stance.wsgi)", stance))
    print(line("bare Django project", bare))
    print(f"ratio {ratio:.2f} (target <= {RSS_TARGET}): {'PASS' if ok else 'MISS'}")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    choice = parser.add_mutually_exclusive_group()
    choice.add_argument("--python", type=Path, help="measure with this interpreter's environment as it is")
    choice.add_argument("--venv", type=Path, help="build (once) and keep the production environment here")
    args = parser.parse_args()
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}, {os.cpu_count()} CPUs", flush=True)
    with tempfile.TemporaryDirectory(prefix="stance-memory-") as folder:
        workdir = Path(folder)
        python = args.python or production_python(args.venv or workdir / "venv")
        print(f"environment: {python}", flush=True)
        ok = print_memory(*measure_memory(python, workdir))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
