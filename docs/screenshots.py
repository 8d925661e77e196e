"""Screenshots of the main pages for the README, taken from a freshly seeded demo.

Run with `scripts/screenshots`: it migrates and seeds a throw-away instance, serves it on a
free loopback port, signs in as each role in headless Chromium and writes docs/screenshots/.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
CHROMIUM = os.environ.get("ALPR_CHROMIUM", "/usr/bin/chromium")

#: (file name, the demo role signed in or None for the public, path)
PAGES: tuple[tuple[str, str | None, str], ...] = (
    ("home-chief", "chief", "/"),
    ("home-operator", "operator", "/"),
    ("hits", "operator", "/alpr/hits"),
    ("search", "operator", "/alpr/search"),
    ("requests", "chief", "/requests"),
    ("trail", "auditor", "/audit/"),
    ("portal", "agency", "/portal"),
    ("public-log", None, "/public/log"),
    ("public-locations", None, "/public/locations"),
)

#: Pages photographed with the first hit's work panel open, as an officer sees it at work.
OPEN_FIRST_WORK = frozenset({"hits"})


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(url: str) -> None:
    for _ in range(100):
        try:
            urllib.request.urlopen(url, timeout=1)  # noqa: S310 (loopback)
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the demo server did not answer at {url}")


def _sign_in(page: Page, base: str, role: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(f"{role}@demo.alpr")
    page.get_by_label("Password").fill(f"demo-{role}-2026")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("[data-testid=current-user]")


def main() -> None:
    """Seed a throw-away demo, serve it, and photograph each page as its role sees it."""
    instance = tempfile.mkdtemp(prefix="alpr-screens-")
    env = {**os.environ, "ALPR_INSTANCE_PATH": instance, "ALPR_ENV": "development"}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    flask = [str(ROOT / "scripts" / "flask")]
    alembic = str(ROOT / ".venv" / "bin" / "alembic")
    subprocess.run([alembic, "upgrade", "head"], env=env, cwd=ROOT, check=True)
    subprocess.run([*flask, "demo", "seed"], env=env, check=True, capture_output=True)
    for job in ("check_compliance_counters", "verify_audit_chain"):
        subprocess.run([*flask, "jobs", "run", job], env=env, check=True, capture_output=True)
    port = _free_port()
    server = subprocess.Popen(
        [*flask, "run", "--host", "127.0.0.1", "--port", str(port), "--no-reload"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(f"{base}/healthz")
        OUT.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
            )
            for name, role, path in PAGES:
                context = browser.new_context(viewport={"width": 1280, "height": 800})
                page = context.new_page()
                if role:
                    _sign_in(page, base, role)
                page.goto(f"{base}{path}")
                page.wait_for_load_state("networkidle")
                if name in OPEN_FIRST_WORK:
                    page.get_by_role("link", name="Work").first.click()
                    page.wait_for_selector("[data-panel-heading]")
                    page.wait_for_load_state("networkidle")
                page.screenshot(path=str(OUT / f"{name}.png"), full_page=False)
                context.close()
                print(f"docs/screenshots/{name}.png  {role or 'public'}  {path}")
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
