"""In the browser: from a key press to the next sentence painted, in Chromium.

Sets up a throwaway database (SQLite, or --postgres) with a small corpus and one
annotator, starts gunicorn on 127.0.0.1, and drives Debian's Chromium with Playwright:
log in through the form, open the label page, then press 1, 2 or 3 for --labels labels
(default 50), --pause ms apart. In the page (a script added before the app's own, no
inline script, so the Content-Security-Policy stays as it is) a capturing keydown
listener notes the key event's time; on htmx:afterSwap of the sentence card it waits for
requestAnimationFrame and then a message posted from it, which runs once that frame has
been painted, and records performance.now() minus the key time. Prints the median and p90
of key-to-paint (target: median under 50 ms), with the request's share and the swap.

    .venv/bin/python benchmarks/keypaint.py
    .venv/bin/python benchmarks/keypaint.py --labels 100 --postgres
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

MEASURE = """
(() => {
  const kp = (window.__keypaint = { results: [], pending: null });
  window.addEventListener("keydown", (event) => {
    if (["1", "2", "3"].includes(event.key) && !event.repeat) {
      kp.pending = { key: event.key, t0: event.timeStamp || performance.now() };
    }
  }, true);
  document.addEventListener("htmx:beforeSwap", (event) => {
    if (kp.pending && event.detail.target && event.detail.target.id === "sentence-card") {
      kp.pending.response = performance.now();
    }
  });
  document.addEventListener("htmx:afterSwap", (event) => {
    if (!event.detail.target || event.detail.target.id !== "sentence-card" || !kp.pending) return;
    const pressed = kp.pending;
    kp.pending = null;
    const swapped = performance.now();
    requestAnimationFrame(() => {
      const frame = performance.now();
      const channel = new MessageChannel();
      channel.port1.onmessage = () => {
        const current = document.getElementById("current-sentence");
        const errors = document.getElementById("errors");
        kp.results.push({
          key: pressed.key,
          response: (pressed.response || swapped) - pressed.t0,
          swap: swapped - pressed.t0,
          frame: frame - pressed.t0,
          painted: performance.now() - pressed.t0,
          sentence: current ? current.dataset.sentenceId : null,
          error: errors ? errors.textContent : "",
        });
      };
      channel.port2.postMessage(0);
    });
  });
})();
"""


def wait_for_results(page, count: int, timeout: float = 15.0) -> None:
    """Poll from Python: wait_for_function would eval a string, which the page's CSP forbids."""
    deadline = time.monotonic() + timeout
    while page.evaluate("() => window.__keypaint.results.length") < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"no paint recorded for label {count} within {timeout:g} s")
        time.sleep(0.005)


def run_browser(
    server: harness.Gunicorn, username: str, target_id: int, args: argparse.Namespace
) -> list[dict]:
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(15_000)
            page.add_init_script(MEASURE)
            page.goto(f"{server.url}/accounts/login/?next=/label/{target_id}/")
            page.fill("#id_username", username)
            page.fill("#id_password", harness.PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"**/label/{target_id}/")
            page.wait_for_selector("#current-sentence")
            for i in range(args.warmup + args.labels):
                before = page.get_attribute("#current-sentence", "data-sentence-id")
                page.keyboard.press("123"[i % 3])
                wait_for_results(page, i + 1)
                after = page.get_attribute("#current-sentence", "data-sentence-id")
                if after == before:
                    raise RuntimeError(f"label {i + 1}: the sentence did not change ({before})")
                time.sleep(args.pause / 1000)
            results = page.evaluate("window.__keypaint.results")
        finally:
            browser.close()
    return results[args.warmup :]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--labels", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=3, help="labels before measuring")
    parser.add_argument("--pause", type=float, default=300, help="ms between a paint and the next key")
    parser.add_argument("--sentences", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--pg-port", type=int, default=5432)
    args = parser.parse_args()
    if args.pg_host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("only loopback database hosts")
    if not 1 <= args.labels <= 1000:
        parser.error("--labels must be between 1 and 1000")

    workdir = Path(tempfile.mkdtemp(prefix="stance-keypaint-"))
    try:
        with harness.throwaway_database(
            postgres=args.postgres, name="stance_keypaint", pg_host=args.pg_host, pg_port=args.pg_port,
            workdir=workdir,
        ) as database:  # fmt: skip
            harness.setup_django(database)
            import corpus
            from django.core.management import call_command
            from django.db import connections

            call_command("migrate", verbosity=0)
            corpus.generate(args.sentences, seed=3)
            target = harness.make_target(name="Key to paint", overlap=2)
            (username,) = harness.make_annotators(1, prefix="keypaint")
            connections.close_all()
            with harness.running_gunicorn(database, workdir, workers=args.workers) as server:
                print(f"{database.label}, gunicorn on {server.url}, Chromium via Playwright", flush=True)
                results = run_browser(server, username, target.pk, args)
            connections.close_all()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    errors = [r for r in results if r["error"]]
    print(f"\n{len(results)} labels, key press to next sentence (ms):")
    print(f"{'':<28}{'median':>8}{'p90':>8}{'max':>8}")
    for part, name in [
        ("response", "response received"),
        ("swap", "card swapped in"),
        ("frame", "animation frame"),
        ("painted", "painted (key to paint)"),
    ]:
        values = [r[part] for r in results]
        print(
            f"{name:<28}{statistics.median(values):>8.1f}{harness.percentile(values, 90):>8.1f}{max(values):>8.1f}"
        )
    median = statistics.median(r["painted"] for r in results)
    print(
        f"\nkey to paint: median {median:.1f} ms, p90 {harness.percentile([r['painted'] for r in results], 90):.1f} ms "
        f"(target: median < 50 ms); errors shown in the page: {len(errors)}"
    )
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
