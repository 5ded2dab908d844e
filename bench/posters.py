"""Time 100 QR posters (``export-qr --format pdf``) against a baseline measured in the same run:
qrcode + bare fpdf2 drawing the same modules (one ``rect`` per horizontal run of dark modules,
the cheapest way fpdf2's public API offers) and the same texts with plain ``cell()``, the same
DejaVu fonts embedded. Once in process, once as subprocesses (interpreter start-up included).

``python -m bench.posters --baseline JOB OUT`` is the baseline's subprocess: it imports only
qrcode and fpdf2 (this module's own imports are the standard library's)."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

STOPS = 100
ROUNDS = 3
SLUG = "bench-posters"
FONTS = {
    ("Sans", ""): "DejaVuSans.ttf",
    ("Sans", "B"): "DejaVuSans-Bold.ttf",
    ("Mono", ""): "DejaVuSansMono.ttf",
}
FONT_DIR = Path(__file__).resolve().parent.parent / "assets" / "fonts"


def baseline(job: dict[str, Any]) -> bytes:
    """The posters as the bare libraries draw them: a QR code per page and its texts."""
    import qrcode
    from fpdf import FPDF
    from qrcode.constants import ERROR_CORRECT_M

    pdf = FPDF(unit="mm", format="A4")
    for (family, style), name in FONTS.items():
        pdf.add_font(family, style, str(FONT_DIR / name))
    pdf.set_auto_page_break(False)
    for page in job["pages"]:
        pdf.add_page()
        code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4)
        code.add_data(page["url"])
        code.make(fit=True)
        rows = code.modules
        module = 100.0 / len(rows)
        x0, y0 = 55.0, 90.0
        for y, row in enumerate(rows):
            x, n = 0, len(row)
            while x < n:
                if row[x]:
                    start = x
                    while x < n and row[x]:
                        x += 1
                    pdf.rect(
                        x0 + start * module, y0 + y * module, (x - start) * module, module, "F"
                    )
                x += 1
        for family, style, size, y, text in page["texts"]:
            pdf.set_font(family, style, size)
            pdf.set_xy(15, y)
            pdf.cell(180, size * 0.44, text, align="C")
    return bytes(pdf.output())


def _app(tmp: Path):
    """A SQLite app with a published rally of STOPS stops (the demo's ten and more)."""
    from server import create_app, models, seed
    from server.extensions import db

    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench",
            "RATELIMIT_ENABLED": False,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'bench.sqlite3'}",
            "PUBLIC_BASE_URL": "https://artcaching.example.org",
            "MEDIA_DIR": str(tmp / "media"),
        },
        instance_path=str(tmp / "instance"),
    )
    with app.app_context():
        db.create_all()
        row = seed.demo(slug=SLUG)
        last = row.stops[-1].marker
        for k in range(STOPS - len(row.stops)):
            marker = models.Marker(
                lat=last.lat + 0.0005 * (k + 1),
                lon=last.lon,
                radius_m=20,
                title={"de": f"Zusatzstation {k + 1} am Stadtpark", "en": f"Extra stop {k + 1}"},
            )
            row.stops.append(models.RallyStop(marker=marker, position=len(row.stops)))
        db.session.commit()
    return app


def _job(app) -> dict[str, Any]:
    """What the baseline draws: each poster's URL and texts (font, size, y, text)."""
    from routes.model import pick
    from server import exports, models
    from server.extensions import db
    from server.i18n import t

    with app.app_context():
        sheet = exports.qr_sheet(db.session.scalars(db.select(models.Rally)).one())
    title = pick(sheet.title, "de")
    pages = []
    for item in sheet.items:
        stop = f"{t('organiser.pdf.stop', 'de', n=item.number)} · "
        stop += t("organiser.pdf.stop", "en", n=item.number)
        footer = f"{sheet.slug} · {item.number}/{len(sheet.items)} · {sheet.printed_at:%Y-%m-%d}"
        texts = [
            ("Sans", "B", 15, 8, title),
            ("Sans", "B", 26, 30, stop),
            ("Sans", "B", 22, 43, pick(item.title, "de") or item.venue or ""),
            ("Sans", "", 14, 53, pick(item.title, "en")),
            ("Sans", "", 12, 60, item.venue or ""),
            ("Sans", "B", 40, 235, item.short_code),
            ("Sans", "B", 12, 260, t("organiser.pdf.scan", "de")),
            ("Sans", "", 12, 266, t("organiser.pdf.scan", "en")),
            ("Mono", "", 13, 275, sheet.typing_address),
            ("Sans", "", 6.5, 288, footer),
        ]
        pages.append({"url": item.url, "texts": [list(x) for x in texts if x[4]]})
    return {"pages": pages}


def _best(*runs: Callable[[], object], rounds: int = ROUNDS) -> list[float]:
    """The least wall time of each run in rounds, the runs taking turns (the machine's load
    falls on both alike)."""
    times = [float("inf")] * len(runs)
    for _ in range(rounds):
        for i, run in enumerate(runs):
            start = time.perf_counter()
            run()
            times[i] = min(times[i], time.perf_counter() - start)
    return times


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _environment(tmp: Path) -> dict[str, str]:
    """The app's settings, and bytecode caches written and read as an installed program has them
    (PYTHONDONTWRITEBYTECODE would make the app compile its own modules on every start)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("FLASK_") and k != "PYTHONDONTWRITEBYTECODE"
    }
    env.update(
        DATABASE_URL=f"sqlite:///{tmp / 'bench.sqlite3'}",
        SECRET_KEY="bench",
        PUBLIC_BASE_URL="https://artcaching.example.org",
        MEDIA_DIR=str(tmp / "media"),
    )
    return env


def main() -> None:
    import bench
    from server import exports, models
    from server.extensions import db

    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        app = _app(tmp)
        job = _job(app)

        def ours() -> bytes:
            with app.app_context():
                row = db.session.scalars(db.select(models.Rally)).one()
                return exports.qr_download(row, "pdf").data

        size, bare_size = len(ours()), len(baseline(job))
        app_s, bare_s = _best(ours, lambda: baseline(job))
        print(
            f"{STOPS} posters in process: app {app_s:.2f} s ({size // 1024} KiB), "
            f"qrcode + fpdf2 {bare_s:.2f} s ({bare_size // 1024} KiB); best of {ROUNDS}"
        )
        bench.figure("posters in process / qrcode + fpdf2", app_s / bare_s, at_most=1.3)

        job_path = tmp / "job.json"
        job_path.write_text(json.dumps(job), encoding="utf-8")
        env = _environment(tmp)
        root = Path(__file__).resolve().parent.parent
        script = Path(sys.executable).with_name("artcaching")
        cli = [str(script), "export-qr", SLUG, "--format", "pdf", "-o", str(tmp / "app.pdf")]
        bare = [sys.executable, "-m", "bench.posters", "--baseline", str(job_path)]
        bare.append(str(tmp / "bare.pdf"))

        cpu: dict[str, float] = {}

        def run(args: list[str]) -> Callable[[], object]:
            def once() -> None:
                before = _children_cpu()
                subprocess.run(args, env=env, cwd=root, check=True, capture_output=True, timeout=60)
                used = _children_cpu() - before
                cpu[args[0]] = min(cpu.get(args[0], used), used)

            return once

        _best(run(cli), run(bare), rounds=1)  # writes the bytecode caches, warms the disk cache
        cpu.clear()
        cli_s, bare_cli_s = _best(run(cli), run(bare))
        print(
            f"{STOPS} posters as a subprocess: artcaching export-qr {cli_s:.2f} s, "
            f"python -m bench.posters --baseline {bare_cli_s:.2f} s; best of {ROUNDS}"
        )
        cpu_ratio = cpu[cli[0]] / cpu[bare[0]]
        bench.figure(
            "posters CLI / qrcode + fpdf2 script",
            cli_s / bare_cli_s,
            at_most=1.3,
            detail=f"CPU time {cpu[cli[0]]:.2f} s / {cpu[bare[0]]:.2f} s = {cpu_ratio:.2f}x",
        )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--baseline"]:
        data = json.loads(Path(sys.argv[2]).read_text(encoding="utf-8"))
        Path(sys.argv[3]).write_bytes(baseline(data))
    else:
        main()
