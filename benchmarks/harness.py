"""Shared parts of the load, scale and key-to-paint benchmarks.

A throwaway database (a SQLite file in a temporary folder, or a PostgreSQL database that
is created and dropped again, optionally on a private PostgreSQL server started for the
run), Django set up against it, annotator accounts made fast, and gunicorn on 127.0.0.1.
Nothing here talks to any address but loopback, and every wait is bounded.
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

VENV_BIN = ROOT / ".venv" / "bin"
PASSWORD = "bench-annotator-password-7"
PG_BIN = (
    Path("/usr/lib/postgresql")
    / (sorted(os.listdir("/usr/lib/postgresql"))[-1] if Path("/usr/lib/postgresql").is_dir() else "15")
    / "bin"
)
#: Settings for gunicorn and in-process measurements: production-like, over plain HTTP.
SERVER_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "benchmark-secret-key-not-for-production-0123456789",
    "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
    "SECURE_SSL_REDIRECT": "0",
    "SECURE_COOKIES": "0",
    "STATIC_MANIFEST": "0",
    "DJANGO_SETTINGS_MODULE": "stance.settings",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
        time.sleep(0.1)
    return False


# --- PostgreSQL -------------------------------------------------------------------------


@dataclass
class PrivatePostgres:
    """A PostgreSQL server of our own (initdb in a temporary folder, loopback only).

    For fault tests: restarting it breaks nobody else's connections.
    """

    folder: Path
    port: int = field(default_factory=free_port)

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def _as_postgres(self, *command: str, timeout: float = 60) -> subprocess.CompletedProcess:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        return subprocess.run(
            [*prefix, *command], check=True, capture_output=True, text=True, timeout=timeout
        )

    def init(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        self._as_postgres(
            str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8"
        )
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.folder} "
            "-c max_connections=100 -c shared_buffers=128MB"
        )
        (self.folder / "options").write_text(options)

    def _pg_ctl(self, action: str, *extra: str) -> None:
        """pg_ctl on the private cluster, waiting up to 60 s for it to finish."""
        self._as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), *extra, "-w", "-t", "60", action)

    def _with_options(self) -> tuple[str, ...]:
        return ("-o", (self.folder / "options").read_text(), "-l", str(self.folder / "log"))

    def start(self) -> None:
        self._pg_ctl("start", *self._with_options())

    def restart(self) -> None:
        self._pg_ctl("restart", *self._with_options(), "-m", "fast")

    def stop(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            self._pg_ctl("stop", "-m", "fast")


def restart_shared_postgres() -> None:
    """Restart the machine's own cluster (every client of it loses its connections)."""
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
        check=True,
        capture_output=True,
        timeout=120,
    )


def pg_admin(host: str, port: int, sql: str) -> None:
    import psycopg

    with psycopg.connect(host=host, port=port, user="postgres", dbname="postgres", autocommit=True) as conn:
        conn.execute(sql)


@dataclass
class Database:
    """Where a benchmark's data lives; `env` is what gunicorn and child processes need."""

    vendor: str  # "sqlite" or "postgresql"
    env: dict[str, str]
    label: str


@contextlib.contextmanager
def throwaway_database(
    *, postgres: bool, name: str, pg_host: str = "127.0.0.1", pg_port: int = 5432, workdir: Path
) -> Iterator[Database]:
    """A fresh SQLite file under `workdir`, or a PostgreSQL database created and dropped."""
    if not postgres:
        path = workdir / f"{name}.sqlite3"
        yield Database("sqlite", {"SQLITE_PATH": str(path)}, f"SQLite {path.name}")
        return
    db = f"{name}_{os.getpid()}"
    pg_admin(pg_host, pg_port, f'DROP DATABASE IF EXISTS "{db}"')
    pg_admin(pg_host, pg_port, f'CREATE DATABASE "{db}"')
    try:
        url = f"postgres://postgres@{pg_host}:{pg_port}/{db}"
        yield Database("postgresql", {"DATABASE_URL": url}, f"PostgreSQL {db} on {pg_host}:{pg_port}")
    finally:
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        for _ in range(3):
            try:
                pg_admin(pg_host, pg_port, f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
                break
            except Exception:  # the server may still be coming back from a restart
                time.sleep(2)


def setup_django(database: Database, *, production: bool = False) -> None:
    """Point this process's Django at the database (DEBUG=1 unless `production`)."""
    for key in ("SQLITE_PATH", "DATABASE_URL"):
        os.environ.pop(key, None)
    os.environ.update(database.env)
    if production:
        os.environ.update(SERVER_ENV)
    else:
        os.environ["DJANGO_SETTINGS_MODULE"] = "stance.settings"
        os.environ["DEBUG"] = "1"
    import django

    django.setup()


# --- data -------------------------------------------------------------------------------


def make_annotators(k: int, *, prefix: str = "bench-annotator") -> list[str]:
    """K annotator accounts sharing one password, hashed once (hashing is the slow part)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group

    user_model = get_user_model()
    hashed = make_password(PASSWORD)
    users = user_model.objects.bulk_create(
        [user_model(username=f"{prefix}-{i:03d}", password=hashed, is_active=True) for i in range(k)]
    )
    group, _ = Group.objects.get_or_create(name="annotator")
    through = user_model.groups.through
    through.objects.bulk_create([through(user_id=u.pk, group_id=group.pk) for u in users])
    return [u.username for u in users]


def make_target(*, name: str = "Benchmark", overlap: int = 2, queue_order: str = "in_order"):
    """A target in article order unless asked: the figures in the README were measured so
    (new targets default to the random order; benchmarks/scale.py --order measures both)."""
    from annotate.models import Target

    return Target.objects.create(
        name=name,
        overlap=overlap,
        queue_order=queue_order,
        guidelines="Label the stance of each sentence toward the target.",
    )


# --- gunicorn ---------------------------------------------------------------------------


@dataclass
class Gunicorn:
    """gunicorn serving stance.wsgi on 127.0.0.1; stderr goes to a log file."""

    database: Database
    workdir: Path
    workers: int = 4
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.workdir / f"gunicorn-{self.port}.log"

    def start(self) -> None:
        env = {key: value for key, value in os.environ.items() if key not in ("SQLITE_PATH", "DATABASE_URL")}
        env.update(SERVER_ENV)
        env.update(self.database.env)
        env.update(self.extra_env)
        command = [
            str(VENV_BIN / "gunicorn"),
            "stance.wsgi",
            "--workers", str(self.workers),
            "--bind", f"127.0.0.1:{self.port}",
            "--backlog", "256",
            "--timeout", "60",
            "--graceful-timeout", "5",
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=self.log.open("w")
        )
        if not self._ready(timeout=60):
            self.stop()
            raise RuntimeError(f"gunicorn did not come up; see {self.log}:\n{self.log.read_text()[-2000:]}")

    def _ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"{self.url}/accounts/login/", timeout=5) as response,
            ):
                if response.status == 200 and len(self.worker_pids()) >= self.workers:
                    return True
            time.sleep(0.2)
        return False

    def worker_pids(self) -> list[int]:
        if self.process is None:
            return []
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in children.read_text().split()]
        except OSError:
            return []

    def kill_worker(self) -> int | None:
        """SIGKILL one worker by its pid; the gunicorn master starts a new one."""
        pids = self.worker_pids()
        if not pids:
            return None
        os.kill(pids[0], signal.SIGKILL)
        return pids[0]

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            for pid in self.worker_pids():
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            self.process.kill()
            self.process.wait(timeout=10)

    def stderr_count(self, needle: str) -> int:
        try:
            return self.log.read_text(errors="replace").count(needle)
        except OSError:
            return 0


@contextlib.contextmanager
def running_gunicorn(database: Database, workdir: Path, **kwargs: object) -> Iterator[Gunicorn]:
    server = Gunicorn(database, workdir, **kwargs)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(p / 100 * len(ordered))))
    return ordered[rank - 1]


def temporary_folder(prefix: str) -> tempfile.TemporaryDirectory:
    return tempfile.TemporaryDirectory(prefix=prefix)
