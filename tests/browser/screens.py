"""`make screens`: photograph every page of the tour (tests/browser/tour.py) in English and Spanish.

Loads the demo department into a throw-away database, serves it on loopback, and saves (as JPEG) the staff pages
at 1280 px and the patient's pages at 390 px (a phone) into docs/screens/<language>/, with docs/screens/README.md
linking them. Uses Debian's Chromium; nothing leaves the machine.
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

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "docs" / "screens"
CHROMIUM = "/usr/bin/chromium"
LANGUAGES = {"en": "English", "es": "Español"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait(url: str, process: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        if process.poll() is not None:
            raise SystemExit(f"the server stopped (exit {process.returncode})")
        try:
            with urllib.request.urlopen(url, timeout=1):  # noqa: S310 (loopback only)
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the server did not answer at {url}")


# Long lists are cut after this height; JPEG keeps the folder small enough to keep in the repository.
MAX_HEIGHT = 1800


def _save(png: bytes, target: Path) -> None:
    from io import BytesIO

    from PIL import Image

    with Image.open(BytesIO(png)) as image:
        shot = image.convert("RGB")
        if shot.height > MAX_HEIGHT:
            shot = shot.crop((0, 0, shot.width, MAX_HEIGHT))
        shot.save(target, format="JPEG", quality=50, optimize=True)


def main() -> int:
    if not Path(CHROMIUM).exists():
        print(f"make screens needs Chromium at {CHROMIUM} (scripts/ensure-system-deps.sh chromium)", file=sys.stderr)
        return 2
    var = Path(tempfile.mkdtemp(prefix="kyphos-screens-"))
    env = {**os.environ, "KYPHOS_VAR_DIR": str(var), "KYPHOS_LOG_LEVEL": "WARNING"}
    env.pop("DATABASE_URL", None)
    kyphos = str(Path(sys.executable).with_name("kyphos"))
    subprocess.run([kyphos, "migrate", "--verbosity", "0"], env=env, check=True)
    subprocess.run([kyphos, "demo", "--seed", "7", "--verbosity", "0"], env=env, check=True, stdout=subprocess.DEVNULL)
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kyphos.settings")
    import django

    django.setup()
    from playwright.sync_api import sync_playwright

    from kyphos.demo.department import demo_password
    from tests.browser import tour

    stops = tour.staff_stops() + tour.patient_stops()
    index = ["# Screens", "", "Every page of the pathway in the demo department, made by `make screens`.", ""]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        for language, language_name in LANGUAGES.items():
            port = _free_port()
            server = subprocess.Popen(
                [kyphos, "serve", "--demo", "--port", str(port), "--no-worker"],
                env={**env, "KYPHOS_LANGUAGE": language},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                base = f"http://127.0.0.1:{port}"
                _wait(base + "/healthz", server)
                (OUT / language).mkdir(parents=True, exist_ok=True)
                for old in (OUT / language).glob("*.*g"):
                    old.unlink()
                index += [f"## {language_name}", "", "| Page | Opened by |", "|---|---|"]
                for stop in stops:
                    context = browser.new_context(
                        viewport={"width": tour.PHONE_WIDTH if stop.phone else tour.STAFF_WIDTH, "height": 900},
                        locale=language,
                    )
                    page = context.new_page()
                    if stop.user:
                        page.goto(base + "/login/")
                        page.fill("#id_username", stop.user)
                        page.fill("#id_password", demo_password(stop.user))
                        page.locator("form button[type=submit]").click()
                        page.wait_for_load_state()
                    if stop.phone:  # the patient's pages speak the patient's language: choose it as they would
                        token = stop.path.split("/")[2]
                        page.goto(f"{base}/p/{token}/lang/{language}/")
                    page.goto(base + stop.path)
                    target = OUT / language / f"{stop.name}.jpg"
                    _save(page.screenshot(full_page=True), target)
                    context.close()
                    who = stop.user or ("patient (phone)" if stop.phone else "anyone")
                    index.append(f"| [{stop.name}]({language}/{stop.name}.jpg) | {who} |")
                index.append("")
                print(f"{language}: {len(stops)} screens in {OUT / language}")
            finally:
                server.terminate()
                server.wait(timeout=30)
        browser.close()
    (OUT / "README.md").write_text("\n".join(index), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
