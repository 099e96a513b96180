"""Make the dashboard pictures of the README and docs/dashboard.md.

    python docs/screenshot_dashboard.py  # writes docs/dashboard-index.png, docs/dashboard-author.png
                                         # and docs/dashboard-phone.png (375 px, dark)

Builds a small lab in a temporary folder (three authors, three years of
weekly snapshots written by ``AuthorStore`` as ``run`` writes them, with a
week of OpenAlex numbers, a stale author and a publication that vanished),
runs ``scholar-stats site`` on it, and photographs two pages (and one at a phone's width) with headless
Chromium (``/usr/bin/chromium``, through playwright).  The numbers are made
up and say so on the page title.
"""

from __future__ import annotations

import random
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from crawler.models import AuthorRecord, Metrics, Profile, Publication
from crawler.storage.stale import mark_stale
from crawler.storage.store import AuthorStore

HERE = Path(__file__).resolve().parent
START = datetime(2023, 12, 4, 6, 0, tzinfo=UTC)
TITLES = (
    "Wetting transitions on laser-textured copper surfaces",
    "Boiling heat transfer of nanofluids: a review",
    "Scalable inference for sparse Bayesian models",
    "Droplet impact on superhydrophobic surfaces",
    "Graph attention for citation forecasting",
    "Microfluidic mixing at low Reynolds numbers",
    "A survey of bibliometric indicators",
    "Condensation on biphilic surfaces",
)


def _h_index(counts: list[int], at_least: int | None = None) -> int:
    ranked = sorted(counts, reverse=True)
    if at_least is not None:
        return sum(1 for c in ranked if c >= at_least)
    return sum(1 for i, c in enumerate(ranked, start=1) if c >= i)


def make_author(
    data: Path, scholar_id: str, name: str, seed: int, *, pubs: int, weeks: int, openalex_week: int | None
) -> None:
    rng = random.Random(seed)
    store = AuthorStore(data, scholar_id)
    counts = [rng.randint(0, 60) for _ in range(pubs)]
    speed = [rng.paretovariate(1.5) for _ in range(pubs)]
    per_year: dict[int, int] = {2021: 80, 2022: 140, 2023: 210}
    live = list(range(pubs - 2))
    for week in range(weeks):
        when = START + timedelta(weeks=week, hours=rng.randint(0, 5))
        if week == weeks // 3:
            live.append(pubs - 2)
        if week == weeks // 2:
            live.append(pubs - 1)
        if week == 2 * weeks // 3 and 1 in live:
            live.remove(1)
        for i in live:
            gained = int(speed[i] * rng.random() * 1.5)
            counts[i] += gained
            per_year[when.year] = per_year.get(when.year, 0) + gained
        shown = [counts[i] for i in live]
        source = (
            "openalex"
            if openalex_week is not None and openalex_week <= week < openalex_week + 2
            else "scholar"
        )
        factor = 0.8 if source == "openalex" else 1.0
        total = int(sum(shown) * factor)
        record = AuthorRecord(
            profile=Profile(scholar_id, name, affiliation="Example Institute of Technology"),
            metrics=Metrics(
                total,
                int(total * 0.7),
                _h_index(shown),
                _h_index(shown) - 1,
                _h_index(shown, 10),
                _h_index(shown, 10) - 1,
                when.year - 5,
            ),
            cites_per_year=tuple(sorted(per_year.items())),
            publications=tuple(
                Publication(
                    f"{scholar_id}:{i:04d}",
                    TITLES[i % len(TITLES)] + ("" if i < len(TITLES) else f" ({i // len(TITLES) + 1})"),
                    authors=f"{name.split()[0][0]} {name.split()[-1]}, J Doe, M Rossi",
                    venue=f"Journal of Example Studies {10 + i % 7} ({1 + i % 4})",
                    year=2015 + i % 11,
                    citations=int(counts[i] * factor),
                )
                for i in live
            ),
            source=source,
            fetched_at=when,
        )
        store.write_snapshot(record)


def main() -> int:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        make_author(data, "wEtTiNgLaB01", "Ana Lima", 1, pubs=18, weeks=156, openalex_week=90)
        make_author(data, "bOiLiNgLaB02", "Bo Chen", 2, pubs=12, weeks=156, openalex_week=None)
        make_author(data, "gRaPhLaB0003", "Chidi Okafor", 3, pubs=8, weeks=110, openalex_week=None)
        mark_stale(
            data,
            "gRaPhLaB0003",
            RuntimeError("blocked by Google Scholar (CAPTCHA)"),
            when=START + timedelta(weeks=110),
        )
        out = Path(tmp) / "site"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "crawler",
                "site",
                "--data-dir",
                str(data),
                "--out",
                str(out),
                "--title",
                "Example lab (made-up numbers)",
            ],
            check=True,
        )
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox", "--disable-gpu"]
            )
            page = browser.new_page(viewport={"width": 1100, "height": 1000}, device_scale_factor=1)
            page.goto((out / "index.html").as_uri())
            page.screenshot(path=str(HERE / "dashboard-index.png"), full_page=True)
            page.goto((out / "wEtTiNgLaB01" / "index.html").as_uri())
            page.screenshot(path=str(HERE / "dashboard-author.png"), full_page=False)
            phone = browser.new_page(
                viewport={"width": 375, "height": 1400}, device_scale_factor=1, color_scheme="dark"
            )
            phone.goto((out / "wEtTiNgLaB01" / "index.html").as_uri())
            phone.screenshot(path=str(HERE / "dashboard-phone.png"), full_page=False)
            phone.locator("#pubs-h").scroll_into_view_if_needed()
            phone.screenshot(path="/tmp/h21-phone-pubs.png", full_page=True)
            browser.close()
    print(HERE / "dashboard-index.png")
    print(HERE / "dashboard-author.png")
    print(HERE / "dashboard-phone.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
