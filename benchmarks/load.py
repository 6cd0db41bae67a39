"""Load: K annotators label through the real htmx endpoints against gunicorn on 127.0.0.1.

Sets up its own database (a temporary SQLite file, or with --postgres a PostgreSQL
database it creates and drops), a corpus (default 20,000 sentences), one target with
overlap 2 for each run, and K annotator accounts, then starts gunicorn (3 workers) and
runs K clients (a bounded asyncio aiohttp client, one cookie jar each). Each client logs in
through the login form (GET for the CSRF token, POST the password), opens the label page,
and then, until --seconds have passed, POSTs a label for the sentence it was shown (as
the htmx form does, with HX-Request: true) and reads the next sentence from the fragment;
with --think T it waits T seconds (uniformly 0.5 T to 1.5 T) between labels, with
--think 0 it is saturated.

Prints per run: labels per second, p50/p90/p99 of the label round trip, errors by kind;
then checks the database: every acknowledged label (HTTP 200) is stored, stored =
acknowledged, no duplicate annotation, no sentence with more stance labels than the
overlap, every label has its history event, and no 'database is locked' in gunicorn's log.
Exits 1 when a check fails.

    .venv/bin/python benchmarks/load.py --annotators 1 8 32 --think 1 0
    .venv/bin/python benchmarks/load.py --postgres --annotators 32 --think 1 0 --seconds 30
    .venv/bin/python benchmarks/load.py --annotators 8 --think 0 --kill-worker
    .venv/bin/python benchmarks/load.py --restart-db --annotators 8 --think 0.2

Faults: --kill-worker SIGKILLs one gunicorn worker (by pid) halfway through each run; a
request in flight on it fails and counts as an error, the client re-opens its card and
goes on, and every acknowledged label must still be stored. --restart-db (PostgreSQL)
restarts the database server 30 % into each run: while it is down requests must get a 503
"Database unavailable" and then recover. By default it starts a private PostgreSQL server
for the run so the restart breaks nobody else's connections; --restart-shared-server
restarts the machine's cluster with pg_ctlcluster instead.

--during-retrain: a `manage.py db_worker` runs beside gunicorn; the clients label --seconds
with the target's retrain policy off (no retrain), then the policy is switched on
(--retrain-every new gold labels, a 60-minute floor), the label that crosses it queues the
retrain in the annotator's request, the worker runs it, and the clients go on until it has
ended. Prints p50/p95 of the label round trip without a retrain and while it ran, their
ratio, and checks that exactly one task was queued, that it succeeded and made a model
version, and that no label failed meanwhile. --worker-nice N runs the worker under nice.

    .venv/bin/python benchmarks/load.py --during-retrain --annotators 4 --think 0.2 --seconds 15 --sentences 5000
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import random
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness

SENTENCE_ID = re.compile(r'data-sentence-id="(\d+)"')
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
LABELS = ["pro", "contra", "neutral"]
#: Targets from the issue, for the summary (informational; the checks decide the exit code).
TARGETS = {"think_p99_ms": 25.0, "saturated_per_s": 300.0, "saturated_p99_ms": 150.0}


@dataclass
class RunStats:
    annotators: int
    think: float
    latencies: list[float] = field(default_factory=list)  # seconds, measured window only
    acked: list[tuple[str, int, str, float]] = field(default_factory=list)  # user, sentence, label, at
    errors: collections.Counter = field(default_factory=collections.Counter)
    error_times: list[float] = field(default_factory=list)
    served_twice: int = 0  # the same sentence shown again to an annotator after a 200
    logins_failed: int = 0
    queue_empty: int = 0
    start: float = 0.0
    measured_from: float = 0.0
    end: float = 0.0
    fault: str = ""
    fault_window: tuple[float, float] | None = None
    retrain: tuple[int | None, int | None] = (None, None)  # active version, killed version
    #: (start, seconds) of every acknowledged label in the measured window, to cut into phases.
    timed: list[tuple[float, float]] = field(default_factory=list)
    #: The clients stop here if it comes before their deadline (--during-retrain: the task ended).
    stop_at: float = float("inf")
    background: BackgroundRetrain | None = None
    figures: tuple[float, ...] = ()  # --during-retrain: p50, p95 without, p50, p95 during


@dataclass
class BackgroundRetrain:
    """--during-retrain: when the policy was switched on, and the task's life as polled."""

    enabled_at: float = 0.0
    queued_at: float | None = None
    running_at: float | None = None
    finished_at: float | None = None
    status: str = ""
    tasks: int = 0  # retrain tasks of the target queued in all
    return_value: dict | None = None


class Client:
    """One annotator: its own cookie jar, the card it is looking at, its labels."""

    def __init__(self, base_url: str, username: str, target_id: int, stats: RunStats, seed: int) -> None:
        # aiohttp, not httpx: on these two cores httpx spent 1.3-1.6 ms of CPU a request
        # against aiohttp's 0.3 ms, so the load generator took CPU from the server it measures.
        self.base_url = base_url
        self.http = aiohttp.ClientSession(
            base_url,
            timeout=aiohttp.ClientTimeout(total=30.0),
            connector=aiohttp.TCPConnector(limit=2),
            cookie_jar=aiohttp.CookieJar(unsafe=True),  # cookies for 127.0.0.1 too
        )
        self.username = username
        self.target_id = target_id
        self.stats = stats
        self.rng = random.Random(seed)
        self.sentence: int | None = None
        self.token = ""
        self.seen: set[int] = set()

    async def request(self, method: str, url: str, **kwargs: object) -> tuple[int, str]:
        async with self.http.request(method, url, allow_redirects=False, **kwargs) as response:
            return response.status, await response.text()

    async def login(self) -> bool:
        status, page = await self.request("GET", "/accounts/login/")
        token = CSRF.search(page)
        if status != 200 or token is None:
            return False
        status, _ = await self.request(
            "POST",
            "/accounts/login/",
            data={
                "csrfmiddlewaretoken": token.group(1),
                "username": self.username,
                "password": harness.PASSWORD,
                "next": f"/label/{self.target_id}/",
            },
        )
        cookies = self.http.cookie_jar.filter_cookies(self.base_url)
        return status == 302 and "sessionid" in cookies

    async def open_card(self, *, fragment: bool) -> bool:
        """GET the label page (whole, or the card as htmx asks for it) and read the sentence."""
        headers = {"HX-Request": "true"} if fragment else {}
        status, text = await self.request("GET", f"/label/{self.target_id}/", headers=headers)
        if status != 200:
            return False
        token = CSRF.search(text)
        if token:
            self.token = token.group(1)
        found = SENTENCE_ID.search(text)
        self.sentence = int(found.group(1)) if found else None
        return True

    async def resync(self, deadline: float) -> None:
        """After a failed request: fetch the current card again, retrying briefly."""
        while time.monotonic() < deadline:
            try:
                if await self.open_card(fragment=True):
                    return
            except (TimeoutError, aiohttp.ClientError):
                pass
            await asyncio.sleep(0.2)

    def error(self, kind: str) -> None:
        self.stats.errors[kind] += 1
        self.stats.error_times.append(time.monotonic())

    async def label_loop(self, deadline: float, think: float) -> None:
        url = f"/label/{self.target_id}/submit/"
        while self.sentence is not None and time.monotonic() < min(deadline, self.stats.stop_at):
            label = "skip" if self.rng.random() < 0.05 else self.rng.choice(LABELS)
            sentence = self.sentence
            data = {
                "csrfmiddlewaretoken": self.token,
                "sentence": str(sentence),
                "label": label,
                "spent_ms": str(self.rng.randint(800, 6000)),
            }
            started = time.monotonic()
            try:
                status, text = await self.request("POST", url, data=data, headers={"HX-Request": "true"})
            except TimeoutError:
                self.error("timeout")
                await self.resync(deadline)
                continue
            except aiohttp.ClientError as exc:
                self.error(f"connection: {type(exc).__name__}")
                await self.resync(deadline)
                continue
            done = time.monotonic()
            if status != 200:
                kind = f"HTTP {status}"
                if status == 503 and "Database unavailable" in text:
                    kind += " Database unavailable"
                self.error(kind)
                await asyncio.sleep(0.1)
                await self.resync(deadline)
                continue
            if started >= self.stats.measured_from:
                self.stats.latencies.append(done - started)
                self.stats.timed.append((started, done - started))
            self.stats.acked.append((self.username, sentence, label, done))
            self.seen.add(sentence)
            found = SENTENCE_ID.search(text)
            self.sentence = int(found.group(1)) if found else None
            if self.sentence is None:
                self.stats.queue_empty += 1
            elif self.sentence in self.seen:
                self.stats.served_twice += 1
            if think > 0:
                await asyncio.sleep(think * self.rng.uniform(0.5, 1.5))

    async def close(self) -> None:
        await self.http.close()


async def run_clients(
    base_url: str, usernames: list[str], target_id: int, args: argparse.Namespace, think: float, fault
) -> RunStats:
    stats = RunStats(annotators=len(usernames), think=think)
    clients = [
        Client(base_url, name, target_id, stats, seed=1000 * len(usernames) + i)
        for i, name in enumerate(usernames)
    ]
    try:
        # Log in a few at a time: password hashing is deliberately slow, and is not the
        # label round trip being measured.
        gate = asyncio.Semaphore(4)

        async def prepare(client: Client) -> bool:
            async with gate:
                for _ in range(3):
                    try:
                        if await client.login() and await client.open_card(fragment=False):
                            return True
                    except (TimeoutError, aiohttp.ClientError):
                        await asyncio.sleep(0.5)
                return False

        ready = await asyncio.gather(*(prepare(c) for c in clients))
        stats.logins_failed = ready.count(False)
        clients_ready = [c for c, ok in zip(clients, ready, strict=True) if ok]
        stats.start = time.monotonic()
        stats.measured_from = stats.start + args.warmup
        # --during-retrain: --seconds without a retrain, then as long as the retrain runs
        # (bounded by --retrain-timeout); the watcher stops the clients when it has ended.
        span = args.seconds + (args.retrain_timeout if args.during_retrain else 0)
        deadline = stats.measured_from + span
        tasks = [asyncio.create_task(c.label_loop(deadline, think)) for c in clients_ready]
        if fault is not None:
            tasks.append(asyncio.create_task(fault(stats, deadline)))
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=args.warmup + span + 120)
        stats.end = time.monotonic()
    finally:
        await asyncio.gather(*(c.close() for c in clients))
    return stats


def verify(target_id: int, stats: RunStats) -> dict[str, object]:
    """What the database holds against what the clients were told."""
    from django.db import connections
    from django.db.models import Count, Q

    from annotate.models import Annotation, AnnotationEvent, Assignment, Target

    connections.close_all()  # the server may have been restarted under us
    target = Target.objects.get(pk=target_id)
    stored = {
        (u, s): label
        for u, s, label in Annotation.objects.filter(target=target).values_list(
            "annotator__username", "sentence_id", "label"
        )
    }
    acked = {(u, s): label for u, s, label, _ in stats.acked}
    missing = [key for key, label in acked.items() if stored.get(key) != label]
    duplicates = (
        Annotation.objects.filter(target=target)
        .values("annotator_id", "sentence_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    per_sentence = (
        Annotation.objects.filter(target=target)
        .exclude(label="skip")
        .values("sentence_id")
        .annotate(n=Count("id"))
        .order_by("-n")
        .values_list("n", flat=True)
        .first()
    ) or 0
    over_with_held = 0
    held = collections.Counter(
        Assignment.objects.filter(target=target, expires_at__gt=stats_now()).values_list(
            "sentence_id", flat=True
        )
    )
    if held:
        labels_on_held = collections.Counter(
            Annotation.objects.filter(target=target, sentence_id__in=list(held))
            .exclude(label="skip")
            .values_list("sentence_id", flat=True)
        )
        over_with_held = sum(1 for s, n in held.items() if n + labels_on_held[s] > target.overlap)
    events = AnnotationEvent.objects.filter(target=target).aggregate(
        first=Count("id", filter=Q(action__in=["create", "skip"])),
        repeat=Count("id", filter=Q(action="repeat")),
        other=Count("id", filter=~Q(action__in=["create", "skip", "repeat"])),
    )
    return {
        "acknowledged": len(stats.acked),
        "acknowledged_distinct": len(acked),
        "stored": len(stored),
        "missing": len(missing),
        "stored_unacknowledged": len(set(stored) - set(acked)),
        "duplicates": duplicates,
        "max_labels_per_sentence": per_sentence,
        "overlap": target.overlap,
        "over_overlap_with_held": over_with_held,
        "events_first": events["first"],
        "events_repeat": events["repeat"],
        "events_other": events["other"],
    }


def stats_now():
    from django.utils import timezone

    return timezone.now()


def report(
    stats: RunStats, checks: dict[str, object], db_label: str, locked: int, fault_ok: bool
) -> tuple[bool, tuple]:
    window = max(1e-9, stats.end - stats.measured_from)
    measured = [a for a in stats.acked if a[3] >= stats.measured_from]
    rate = len(measured) / window
    ms = [v * 1000 for v in stats.latencies]
    p50, p90, p99 = (harness.percentile(ms, p) for p in (50, 90, 99))
    mode = f"think {stats.think:g} s" if stats.think else "saturated"
    errors = sum(stats.errors.values()) + stats.logins_failed
    print()
    print(
        f"== {db_label}: {stats.annotators} annotators, {mode}{', ' + stats.fault if stats.fault else ''} =="
    )
    print(
        f"  labels/s {rate:8.1f}   p50 {p50:6.1f} ms   p90 {p90:6.1f} ms   p99 {p99:6.1f} ms   "
        f"max {max(ms, default=float('nan')):6.1f} ms   ({len(ms)} labels in {window:.1f} s measured)"
    )
    print(f"  errors {errors}" + (f": {dict(stats.errors)}" if stats.errors else ""))
    if stats.logins_failed:
        print(f"  logins failed: {stats.logins_failed}")
    if stats.queue_empty:
        print(f"  clients that ran out of sentences: {stats.queue_empty}")
    c = checks
    integrity = {
        "every acknowledged label stored": c["missing"] == 0,
        # Under a fault a request can commit and then lose its response (the worker dies, or
        # the database goes away while the next card is read): stored, never acknowledged.
        (
            "stored = acknowledged + committed but cut off by the fault"
            if stats.fault
            else "stored = acknowledged"
        ): c["stored"] == c["acknowledged_distinct"] + (c["stored_unacknowledged"] if stats.fault else 0),
        "acknowledged labels all distinct": c["acknowledged"] == c["acknowledged_distinct"],
        "no duplicate annotation": c["duplicates"] == 0,
        "overlap never exceeded": c["max_labels_per_sentence"] <= c["overlap"]
        and c["over_overlap_with_held"] == 0,
        "one history event per label": c["events_first"] == c["stored"] and c["events_other"] == 0,
        "no sentence served twice": stats.served_twice == 0 and c["events_repeat"] == 0,
        "no 'database is locked'": locked == 0,
    }
    if stats.fault:
        integrity["recovered after the fault"] = fault_ok
    else:
        integrity["zero errors"] = errors == 0
    print(
        f"  database: {c['acknowledged']} acknowledged, {c['stored']} stored, {c['missing']} missing, "
        f"{c['stored_unacknowledged']} stored without acknowledgement, {c['duplicates']} duplicates, "
        f"max {c['max_labels_per_sentence']} stance labels a sentence (overlap {c['overlap']}), "
        f"{c['events_first']} first events, {c['events_repeat']} repeats, 'database is locked' x{locked}"
    )
    for name, ok in integrity.items():
        print(f"  [{'ok' if ok else 'FAIL'}] {name}")
    ok = all(integrity.values())
    return ok, (
        db_label.split()[0],
        stats.annotators,
        mode,
        rate,
        p50,
        p90,
        p99,
        errors,
        "ok" if ok else "FAIL",
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--annotators", "-k", type=int, nargs="+", default=[8], help="K values to run")
    parser.add_argument("--think", type=float, nargs="+", default=[1.0], help="think times, 0 = saturated")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds a run")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds labelled before measuring")
    parser.add_argument("--sentences", type=int, default=20_000)
    parser.add_argument("--overlap", type=int, default=2)
    # Three: with PostgreSQL and the clients on the same two cores, a fourth worker only
    # adds context switches (measured 197 labels/s with four, 214-220 with three).
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--pg-port", type=int, default=5432)
    parser.add_argument("--kill-worker", action="store_true", help="SIGKILL a gunicorn worker mid-run")
    parser.add_argument("--restart-db", action="store_true", help="restart PostgreSQL mid-run")
    parser.add_argument(
        "--kill-retrain",
        action="store_true",
        help="train a first model mid-run, then SIGKILL a second `retrain` while it writes suggestions",
    )
    parser.add_argument(
        "--during-retrain",
        action="store_true",
        help="label --seconds with no retrain, then switch the retrain policy on and go on labelling "
        "while the retrain the labels queue runs in a `manage.py db_worker` process",
    )
    parser.add_argument(
        "--retrain-every", type=int, default=50, help="with --during-retrain: the policy's N new gold labels"
    )
    parser.add_argument(
        "--worker-nice", type=int, default=0, help="with --during-retrain: run the db_worker under nice -n N"
    )
    parser.add_argument(
        "--retrain-timeout", type=float, default=600.0, help="with --during-retrain: longest wait for it"
    )
    parser.add_argument(
        "--restart-shared-server",
        action="store_true",
        help="with --restart-db: restart the machine's cluster (pg_ctlcluster) instead of a private one",
    )
    args = parser.parse_args()
    if args.pg_host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("only loopback database hosts")
    if args.restart_db:
        args.postgres = True
    if args.during_retrain and (args.kill_worker or args.restart_db or args.kill_retrain):
        parser.error("--during-retrain runs without another fault")
    if max(args.annotators) > 200 or args.seconds > 600 or args.retrain_timeout > 1800:
        parser.error("keep runs bounded: at most 200 annotators and 600 seconds")

    workdir = Path(tempfile.mkdtemp(prefix="stance-load-"))
    private_pg: harness.PrivatePostgres | None = None
    all_ok = True
    summaries = []
    retrain_summaries: list[tuple[str, int, str, tuple[float, ...]]] = []
    server_errors = 0
    try:
        if args.restart_db and not args.restart_shared_server:
            private_pg = harness.PrivatePostgres(Path(tempfile.mkdtemp(prefix="stance-pg-")))
            private_pg.init()
            private_pg.start()
            args.pg_port = private_pg.port
            print(f"Private PostgreSQL server on 127.0.0.1:{private_pg.port} for the restart test")
        with harness.throwaway_database(
            postgres=args.postgres,
            name="stance_load",
            pg_host=args.pg_host,
            pg_port=args.pg_port,
            workdir=workdir,
        ) as database:
            harness.setup_django(database)
            import corpus
            from django.core.management import call_command
            from django.db import connections

            started = time.monotonic()
            call_command("migrate", verbosity=0)
            stats = corpus.generate(args.sentences, seed=11)
            print(
                f"{database.label}: migrated, {stats.sentences:,} sentences in {stats.articles:,} articles "
                f"({time.monotonic() - started:.0f} s)",
                flush=True,
            )
            runs = [(k, think) for think in args.think for k in args.annotators]
            plans = []
            for k, think in runs:
                target = harness.make_target(name=f"Benchmark k{k} think {think:g}", overlap=args.overlap)
                # Off until the run switches it on: no background retrain but the one measured.
                target.retrain_every = 0
                target.save(update_fields=["retrain_every"])
                users = harness.make_annotators(k, prefix=f"k{k}-t{think:g}".replace(".", "_"))
                plans.append((k, think, target.pk, users))
            connections.close_all()
            with (
                harness.running_gunicorn(database, workdir, workers=args.workers) as server,
                running_db_worker(database, workdir, enabled=args.during_retrain, niceness=args.worker_nice),
            ):
                print(f"gunicorn: {args.workers} workers on {server.url}", flush=True)
                for _k, think, target_id, users in plans:
                    locked_before = server.stderr_count("database is locked")
                    fault, fault_name = make_fault(
                        args, server, private_pg, database=database, target_id=target_id, workdir=workdir
                    )
                    stats = asyncio.run(run_clients(server.url, users, target_id, args, think, fault))
                    stats.fault = fault_name
                    fault_ok = fault_recovered(stats)
                    locked = server.stderr_count("database is locked") - locked_before
                    checks = verify(target_id, stats)
                    connections.close_all()
                    if args.kill_retrain:
                        fault_ok &= retrain_survived(stats, target_id)
                    ok, summary = report(stats, checks, database.label, locked, fault_ok)
                    if args.during_retrain:
                        ok &= during_retrain_report(stats, target_id)
                        retrain_summaries.append(
                            (database.label.split()[0], stats.annotators, summary[2], stats.figures)
                        )
                    all_ok &= ok
                    summaries.append(summary)
                if args.kill_worker:
                    alive = len(server.worker_pids())
                    print(f"\ngunicorn workers alive after the run: {alive} of {args.workers}")
                    all_ok &= alive == args.workers
                server_errors = server.stderr_count("Traceback")
            connections.close_all()
    finally:
        if private_pg is not None:
            private_pg.stop()
            shutil.rmtree(private_pg.folder, ignore_errors=True)
        shutil.rmtree(workdir, ignore_errors=True)
    print()
    print(
        f"{'database':<11}{'K':>4}  {'mode':<14}{'labels/s':>9}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}{'errors':>8}  checks"
    )
    for db, k, mode, rate, p50, p90, p99, errors, ok in summaries:
        print(f"{db:<11}{k:>4}  {mode:<14}{rate:>9.1f}{p50:>9.1f}{p90:>9.1f}{p99:>9.1f}{errors:>8}  {ok}")
    print(f"tracebacks in gunicorn's log: {server_errors}")
    if retrain_summaries:
        print()
        print(
            f"{'database':<11}{'K':>4}  {'mode':<14}{'p50 / p95 ms, no retrain':>26}{'during it':>16}{'ratio':>14}"
        )
        for db, k, mode, figures in retrain_summaries:
            if len(figures) == 4:
                b50, b95, d50, d95 = figures
                print(
                    f"{db:<11}{k:>4}  {mode:<14}{b50:>15.1f} / {b95:<8.1f}{d50:>8.1f} / {d95:<8.1f}"
                    f"{d50 / b50:>6.2f} / {d95 / b95:.2f}"
                )
    print(
        f"targets (PostgreSQL, 32 annotators): think time p99 < {TARGETS['think_p99_ms']:g} ms; "
        f"saturated >= {TARGETS['saturated_per_s']:g} labels/s with p99 < {TARGETS['saturated_p99_ms']:g} ms"
    )
    sys.exit(0 if all_ok else 1)


@contextlib.contextmanager
def running_db_worker(
    database: harness.Database, workdir: Path, *, enabled: bool, niceness: int = 0
) -> Iterator[Path | None]:
    """`manage.py db_worker` against the run's database, as a server runs it; its log's path."""
    if not enabled:
        yield None
        return
    import subprocess

    log = workdir / "db_worker.log"
    # The worker's processes (and onnxruntime's threads) at a lower CPU priority, as a
    # deployment may start it: the figure with and without says what CPU contention costs.
    nice = ["nice", "-n", str(niceness)] if niceness else []
    worker = subprocess.Popen(
        [*nice, str(harness.VENV_BIN / "python"), "manage.py", "db_worker", "--interval", "0.2"],
        cwd=harness.ROOT,
        env=_retrain_env(database, workdir),
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        yield log
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        tracebacks = log.read_text().count("Traceback")
        print(f"db_worker stopped (exit {worker.returncode}); tracebacks in its log: {tracebacks}")


def _retrain_command(database: harness.Database, target_id: int, workdir: Path, *extra: str) -> list[str]:
    from annotate.models import Target

    name = Target.objects.get(pk=target_id).name
    return [str(harness.VENV_BIN / "python"), "manage.py", "retrain", "--target", name, *extra]


def _retrain_env(database: harness.Database, workdir: Path) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("SQLITE_PATH", "DATABASE_URL")}
    env.update(harness.SERVER_ENV)
    env.update(database.env)
    env["MODEL_DIR"] = str(workdir / "models")
    return env


def make_fault(
    args: argparse.Namespace,
    server: harness.Gunicorn,
    private_pg,
    *,
    database: harness.Database | None = None,
    target_id: int = 0,
    workdir: Path | None = None,
):
    """A coroutine run beside the clients that injects the requested fault, or None."""
    if args.during_retrain:

        async def watch_retrain(stats: RunStats, deadline: float) -> None:
            stats.background = watched = BackgroundRetrain()
            await asyncio.sleep(max(0.0, stats.measured_from + args.seconds - time.monotonic()))
            watched.enabled_at = time.monotonic()
            # The real path: the next label that makes --retrain-every new gold labels queues
            # the task in the annotator's request, and the db_worker process picks it up.
            await asyncio.to_thread(policy_on, target_id, args.retrain_every)
            print(f"  retrain policy on at {watched.enabled_at - stats.start:.1f} s", flush=True)
            while time.monotonic() < deadline:
                task = await asyncio.to_thread(retrain_task_state, target_id)
                now = time.monotonic()
                if task is not None:
                    status, watched.tasks, watched.return_value = task
                    if watched.queued_at is None:
                        watched.queued_at = now
                    if status == "RUNNING" and watched.running_at is None:
                        watched.running_at = now
                    if status in ("SUCCESSFUL", "FAILED"):
                        watched.finished_at, watched.status = now, status
                        watched.running_at = watched.running_at or watched.queued_at
                        break
                await asyncio.sleep(0.1)
            # A second of labels after it, then stop: the run lasts as long as the retrain.
            stats.stop_at = time.monotonic() + 1.0

        return watch_retrain, ""
    if args.kill_retrain:

        async def kill_retrain(stats: RunStats, deadline: float) -> None:
            import subprocess

            from annotate.models import ModelVersion, Suggestion, Target

            command = await asyncio.to_thread(_retrain_command, database, target_id, workdir)
            env = _retrain_env(database, workdir)
            await asyncio.sleep(max(0.0, (deadline - time.monotonic()) * 0.25))
            first = await asyncio.to_thread(
                subprocess.run,
                [*command, "--min-labels", "10"],
                cwd=harness.ROOT,
                env=env,
                capture_output=True,
                text=True,
            )
            active = await asyncio.to_thread(lambda: Target.objects.get(pk=target_id).active_version_id)
            print(f"  first retrain: exit {first.returncode}, active model version {active}", flush=True)
            at = time.monotonic()
            doomed = subprocess.Popen(
                [*command, "--min-labels", "10", "--batch-size", "200"],
                cwd=harness.ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )

            def writing_suggestions() -> int | None:
                version = ModelVersion.objects.filter(target_id=target_id, status="training").first()
                if version and Suggestion.objects.filter(model_version=version).exists():
                    return version.pk
                return None

            killed = None
            while doomed.poll() is None and time.monotonic() < deadline:
                killed = await asyncio.to_thread(writing_suggestions)
                if killed:
                    doomed.kill()
                    break
                await asyncio.sleep(0.05)
            doomed.wait()
            stats.fault_window = (at, time.monotonic())
            stats.retrain = (active, killed)
            print(f"  killed retrain while it wrote suggestions of version {killed}", flush=True)

        return kill_retrain, "retrain killed"
    if args.kill_worker:

        async def kill(stats: RunStats, deadline: float) -> None:
            await asyncio.sleep(max(0.0, (deadline - time.monotonic()) / 2))
            at = time.monotonic()
            pid = server.kill_worker()
            stats.fault_window = (at, at)
            print(f"  killed gunicorn worker {pid} at {at - stats.start:.1f} s", flush=True)

        return kill, "worker killed"
    if args.restart_db:

        async def restart(stats: RunStats, deadline: float) -> None:
            await asyncio.sleep(max(0.0, (deadline - time.monotonic()) * 0.3))
            at = time.monotonic()
            if private_pg is not None:
                await asyncio.to_thread(private_pg.restart)
            else:
                await asyncio.to_thread(harness.restart_shared_postgres)
            back = time.monotonic()
            stats.fault_window = (at, back)
            print(
                f"  restarted PostgreSQL at {at - stats.start:.1f} s, back after {back - at:.1f} s",
                flush=True,
            )

        return restart, "database restarted"
    return None, ""


def policy_on(target_id: int, every: int) -> None:
    """Retrain after `every` new gold labels; the floor is long, so one task for the run."""
    from annotate.models import Target

    Target.objects.filter(pk=target_id).update(retrain_every=every, retrain_floor_minutes=60)


def retrain_task_state(target_id: int) -> tuple[str, int, dict | None] | None:
    """The first retrain task of the target: status, how many there are, its result."""
    from django_tasks_db.models import DBTaskResult

    from annotate.retrain_policy import RETRAIN_TASK_PATH

    tasks = DBTaskResult.objects.filter(task_path=RETRAIN_TASK_PATH, args_kwargs__args__0=target_id)
    first = tasks.order_by("enqueued_at").first()
    if first is None:
        return None
    return first.status, tasks.count(), first.return_value if first.status == "SUCCESSFUL" else None


def during_retrain_report(stats: RunStats, target_id: int) -> bool:
    """The label round trip before the retrain against while it ran; the retrain's checks."""
    from annotate.models import ModelVersion, Target

    watched = stats.background
    assert watched is not None
    baseline_end = watched.enabled_at
    before = [d * 1000 for t, d in stats.timed if t < baseline_end]
    running_from = watched.running_at or float("inf")
    running_to = watched.finished_at or stats.end
    during = [d * 1000 for t, d in stats.timed if running_from <= t <= running_to]
    errors_before = sum(1 for t in stats.error_times if t < baseline_end)
    errors_during = sum(1 for t in stats.error_times if running_from <= t <= running_to)
    versions = list(ModelVersion.objects.filter(target_id=target_id).values_list("pk", "status"))
    active = Target.objects.get(pk=target_id).active_version_id
    b50, b95 = (harness.percentile(before, p) for p in (50, 95))
    d50, d95 = (harness.percentile(during, p) for p in (50, 95))
    print(
        f"  no retrain:    p50 {b50:6.1f} ms   p95 {b95:6.1f} ms   max {max(before, default=float('nan')):6.1f} ms"
        f"   {len(before)} labels, {errors_before} errors"
    )
    if watched.running_at is not None:
        ran = running_to - running_from
        print(
            f"  retrain runs:  p50 {d50:6.1f} ms   p95 {d95:6.1f} ms   max {max(during, default=float('nan')):6.1f} ms"
            f"   {len(during)} labels, {errors_during} errors, over {ran:.1f} s"
        )
        print(f"  ratio (retrain / none):  p50 {d50 / b50:.2f}   p95 {d95 / b95:.2f}")
        queued_after = (watched.queued_at or 0) - watched.enabled_at
        print(
            f"  task queued {queued_after:.1f} s after the policy was switched on, "
            f"picked up {running_from - (watched.queued_at or running_from):.1f} s later, "
            f"{watched.status or 'still running'} after {ran:.1f} s: {watched.return_value}"
        )
    print(f"  model versions of the target: {versions}, active {active}")
    checks = {
        "the policy queued a retrain task": watched.queued_at is not None,
        "exactly one retrain task for the target": watched.tasks == 1,
        "the db_worker ran it to the end": watched.status == "SUCCESSFUL",
        "it made a new model version": len(versions) == 1,
        "labels measured during the retrain": len(during) > 0,
        "no errors during the retrain": errors_during == 0,
    }
    for name, ok in checks.items():
        print(f"  [{'ok' if ok else 'FAIL'}] {name}")
    stats.figures = (b50, b95, d50, d95)
    return all(checks.values())


def retrain_survived(stats: RunStats, target_id: int) -> bool:
    """The killed retrain left the first model active, with a suggestion for every sentence."""
    from annotate.models import ModelVersion, Sentence, Suggestion, Target

    active, killed = stats.retrain
    now_active = Target.objects.get(pk=target_id).active_version_id
    complete = Suggestion.objects.filter(model_version_id=active).count() == Sentence.objects.count()
    dead = ModelVersion.objects.filter(pk=killed, status="training").exists()
    ok = bool(active) and killed is not None and now_active == active and complete and dead
    print(
        f"  retrain killed: active version {now_active} (was {active}), its suggestions complete: {complete}, "
        f"killed version {killed} left inactive: {dead}  [{'ok' if ok else 'FAIL'}]"
    )
    return ok


def fault_recovered(stats: RunStats) -> bool:
    """After a fault: labels were acknowledged again, and errors stopped."""
    if stats.fault_window is None:
        return not stats.fault
    _, back = stats.fault_window
    after = [a for a in stats.acked if a[3] > back + 1.0]
    late_errors = [t for t in stats.error_times if t > back + 5.0]
    print(
        f"  after the fault: {len(after)} labels acknowledged, {len(late_errors)} errors later than 5 s after it"
    )
    return bool(after) and not late_errors


if __name__ == "__main__":
    main()
