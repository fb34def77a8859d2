"""Open a synthetic-face gallery page in headless Chromium and use its filters as a reader would."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image, ImageDraw

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
VIEWPORT = {"width": 1200, "height": 900}
SYNDROMES = ["Kabuki", "Noonan", "Williams-Beuren"]
PSIS = [0.5, 1.0]
SEEDS = [0, 1]

pytestmark = pytest.mark.skipif(not CHROMIUM.is_file(),
                                reason=f"{CHROMIUM} not found; install Debian's browser with `apt-get install chromium`")


@pytest.fixture(scope="module")
def gallery_page(tmp_path_factory) -> Path:
    "A gallery of 3 syndromes x 2 psi x 2 seeds, each face a distinct colour with a lighter disc in the middle."
    from gestaltm3d.gallery import write_gallery

    samples = tmp_path_factory.mktemp("gallery") / "samples"
    rows = []
    for label, syndrome in enumerate(SYNDROMES):
        for psi in PSIS:
            for seed in SEEDS:
                colour = (60 + 80 * label, 40 + 150 * (psi == 1.0), 60 + 120 * seed)
                image = Image.new("RGB", (64, 64), colour)
                ImageDraw.Draw(image).ellipse((16, 12, 48, 52), fill=tuple(min(255, c + 90) for c in colour))
                path = f"psi{psi:g}/{syndrome}/seed{seed:05d}.png"
                (samples / path).parent.mkdir(parents=True, exist_ok=True)
                image.save(samples / path)
                rows.append({"syndrome": syndrome, "label": label, "seed": seed, "truncation_psi": psi, "path": path})
    pd.DataFrame(rows).to_csv(samples / "manifest.csv", index=False)
    run_info = {"run_name": "browser_test_run", "architecture": "t", "resolution": 32, "output_size": 64, "kimg": 5,
                "data_source": "demo"}
    return write_gallery(samples / "manifest.csv", samples.parent / "gallery.html", run_info, thumbnail_size=64)


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _visible_faces(page) -> list[dict]:
    "The data attributes of the faces a reader can see."
    faces = page.locator("figure.face:visible")
    return [{"syndrome": faces.nth(i).get_attribute("data-syndrome"), "psi": faces.nth(i).get_attribute("data-psi"),
             "seed": faces.nth(i).get_attribute("data-seed")} for i in range(faces.count())]


def test_gallery_page_renders_and_filters(gallery_page, browser, tmp_path):
    page = browser.new_page(viewport=VIEWPORT)
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(gallery_page.resolve().as_uri())
    page.wait_for_load_state("load")

    screenshot = tmp_path / "gallery.png"
    page.screenshot(path=str(screenshot))
    pixels = np.asarray(Image.open(screenshot).convert("RGB"), dtype=np.float32)
    assert pixels.shape == (VIEWPORT["height"], VIEWPORT["width"], 3)
    assert pixels.std() > 20, f"the screenshot looks blank (pixel standard deviation {pixels.std():.1f})"

    images = page.locator("figure.face:visible img")
    assert images.count() == 12
    natural_widths = images.evaluate_all("images => images.map(image => image.complete ? image.naturalWidth : 0)")
    assert natural_widths == [64] * 12
    assert page.locator("#face-count").inner_text() == "Showing 12 of 12 faces"
    assert "synthetic" in page.locator("#synthetic-note").inner_text()
    assert "browser_test_run" in page.locator("#run-note").inner_text()
    assert page.locator("#data-source").inner_text() == "demo"
    first_caption = page.locator("figure.face figcaption").first.inner_text()
    assert "Kabuki" in first_caption
    assert "seed 0" in first_caption
    assert "psi 0.5" in first_caption

    page.get_by_label("Syndrome").select_option("Noonan")
    visible = _visible_faces(page)
    assert {face["syndrome"] for face in visible} == {"Noonan"}
    assert len(visible) == len(PSIS) * len(SEEDS)
    assert page.locator("#face-count").inner_text() == "Showing 4 of 12 faces"
    assert page.locator("section.syndrome-group:visible h2").all_inner_texts() == ["Noonan"]

    page.get_by_label("Truncation psi").select_option("0.5")
    visible = _visible_faces(page)
    assert visible == [{"syndrome": "Noonan", "psi": "0.5", "seed": "0"}, {"syndrome": "Noonan", "psi": "0.5", "seed": "1"}]
    assert page.locator("#face-count").inner_text() == "Showing 2 of 12 faces"

    page.get_by_label("Syndrome").select_option("")
    visible = _visible_faces(page)
    assert {face["psi"] for face in visible} == {"0.5"}
    assert sorted({face["syndrome"] for face in visible}) == SYNDROMES
    assert page.locator("#face-count").inner_text() == "Showing 6 of 12 faces"

    outside = [url for url in requested if not url.startswith(("file:", "data:"))]
    assert outside == [], f"the page requested resources outside the file: {outside}"
    page.close()


def test_gallery_filters_work_by_keyboard(gallery_page, browser):
    page = browser.new_page(viewport=VIEWPORT)
    page.goto(gallery_page.resolve().as_uri())

    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "syndrome-filter"
    page.keyboard.press("ArrowDown")  # from 'All syndromes' to the first syndrome
    assert {face["syndrome"] for face in _visible_faces(page)} == {"Kabuki"}
    assert page.locator("#face-count").inner_text() == "Showing 4 of 12 faces"

    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "psi-filter"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")  # the second psi value
    assert _visible_faces(page) == [{"syndrome": "Kabuki", "psi": "1", "seed": "0"},
                                    {"syndrome": "Kabuki", "psi": "1", "seed": "1"}]
    assert page.locator("#face-count").inner_text() == "Showing 2 of 12 faces"
    page.close()
