"""Printing: time to draw a PDF certificate, a claim poster (PDF and PNG) and a QR code.

Run: ``.venv/bin/python bench/printing.py [--seconds 2]``

Pure renderers, no database and no HTTP: the figures are the CPU cost of one document, which is what a
request to ``/c/<id>.pdf`` pays on a cache miss (the route answers 304 and keeps recent PDFs in memory).
The certificate is a realistic one: a 64 px PNG badge, three competencies, a Markdown criteria list, a
French name with diacritics; a second figure uses an SVG badge (drawn as vector paths) and an Arabic name
(HarfBuzz shaping).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402

from badgehub.printing.certificate import CertificateData, CompetencyLine, certificate_pdf  # noqa: E402
from badgehub.printing.poster import poster_pdf, poster_png  # noqa: E402
from badgehub.printing.qr import qr_png, qr_svg  # noqa: E402
from badgehub.printing.text import markdown_to_text  # noqa: E402

URL = "https://badges.example.org/c/AbCdEfGhIjKl"
SVG = (b'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">'
       b'<circle cx="32" cy="32" r="30" fill="#1d4ed8"/><path d="M20 34 L29 43 L46 22" stroke="#fff" '
       b'stroke-width="6" fill="none"/></svg>')


def badge_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (64, 64), (30, 90, 200, 255)).save(buffer, format="PNG")
    return buffer.getvalue()


def certificate() -> CertificateData:
    return CertificateData(
        public_id="AbCdEfGhIjKl", url=URL, achievement_name="Réparer une crevaison",
        issuer_name="Vélo Solidaire d'Évry", issuer_url="https://velo.example.org", recipient_name="Zoë Ćwikła",
        awarded=dt.datetime(2026, 3, 14, 10), issued_at=dt.datetime(2026, 3, 14, 10),
        valid_until=dt.datetime(2027, 3, 14, 10), description="Sait réparer une chambre à air crevée, seul.",
        criteria=markdown_to_text("- démonter la roue\n- trouver le trou\n- poser une **rustine**"),
        competencies=tuple(CompetencyLine(f"MEC-{i}", f"Compétence {i}", (f"http://data.europa.eu/esco/skill/{i}",))
                           for i in range(3)),
        image=badge_png())


def measure(name: str, run: Callable[[], bytes], seconds: float) -> None:
    """Print the median wall and CPU time of ``run`` (CPU time is what a shared, busy machine distorts least)."""
    run()  # warm-up: fonts parsed, caches filled
    walls: list[float] = []
    cpus: list[float] = []
    size = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(walls) < 5:
        start, cpu = time.perf_counter(), time.process_time()
        size = len(run())
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    wall = statistics.median(walls) * 1000
    cpu_ms = statistics.median(cpus) * 1000
    print(f"{name:<44} wall {wall:7.1f} ms  cpu {cpu_ms:7.1f} ms  ({1000 / cpu_ms:6.1f}/s per core)  "
          f"{size / 1024:6.1f} KiB  n={len(walls)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time spent on each figure")
    args = parser.parse_args()
    print(f"Python {platform.python_version()} on {platform.machine()}, {platform.system()}")
    data = certificate()
    svg_data = CertificateData(**{**data.__dict__, "image": SVG, "image_media_type": "image/svg+xml",
                                  "recipient_name": "محمد بن عبد الله"})
    poster = dict(title="Atelier vélo du 14 mars", organisation_name="Vélo Solidaire d'Évry",
                  achievement_name="Réparer une crevaison", achievement_image_png=badge_png(),
                  claim_url="https://badges.example.org/k/7KD3QX", short_code="7KD3QX",
                  window_text="Ouvert jusqu'au 14 mars 2026, 22 h", locale="fr")
    measure("certificate PDF (PNG badge, fr)", lambda: certificate_pdf(data, locale="fr"), args.seconds)
    measure("certificate PDF (SVG badge, Arabic name, en)", lambda: certificate_pdf(svg_data, locale="en"),
            args.seconds)
    measure("poster PDF", lambda: poster_pdf(**poster), args.seconds)  # type: ignore[arg-type]
    measure("poster PNG 1240x1754", lambda: poster_png(**poster), args.seconds)  # type: ignore[arg-type]
    measure("QR code PNG (scale 8)", lambda: qr_png(URL), args.seconds)
    measure("QR code SVG (scale 4)", lambda: qr_svg(URL), args.seconds)


if __name__ == "__main__":
    main()
