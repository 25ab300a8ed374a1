"""The page in a real headless Chromium (Debian's package, driven by Playwright)."""

import os

import pytest

from tests.web import pages

sync_api = pytest.importorskip("playwright.sync_api")
if not os.path.exists(pages.CHROMIUM):
    pytest.skip(
        f"no Chromium at {pages.CHROMIUM} (apt-get install chromium)", allow_module_level=True
    )


@pytest.fixture(scope="module")
def url(models_dir):
    from cnnlab.web import create_app
    from cnnlab.web.background import BackgroundServer
    from cnnlab.web.models import ModelFolder

    with BackgroundServer(create_app(ModelFolder(models_dir, "digits.keras"))) as address:
        yield address


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = pages.launch(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, url):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(error))
    page.goto(url)
    yield page
    context.close()
    assert not errors, errors  # no script error on the page


def test_drawing_a_seven_is_read_as_seven_and_every_layer_shows(page):
    assert pages.draw(page) == "7"
    assert page.locator(".layer").count() == 4
    assert page.locator(".layer").first.locator("canvas").count() == 8
    text = pages.look_closer(page, layer_index=0, channel=2)
    assert "3x3" in text
    assert page.locator("#closer-first table").count() == 3
    assert "sum" in page.text_content("#closer-sum")


def test_changing_the_stride_changes_the_output_size(page):
    assert pages.set_stride(page, 1) == "3x3"
    assert pages.set_stride(page, 2) == "2x2"
    assert "/ 2) + 1 = 2" in page.text_content("#conv-formula")
    page.select_option("#conv-padding", "same")
    page.wait_for_selector('#conv-shape[data-shape="3x3"]')


def test_uploading_a_photo_shows_filtered_images(page, tmp_path):
    shown = pages.upload_photo(page, tmp_path)
    assert shown == 8  # photo, all channels, and each channel before and after
    assert page.locator("#learned canvas").count() == 8
    widths = page.eval_on_selector_all(
        "#photo-results img", "images => images.map(i => i.naturalWidth)"
    )
    assert widths == [128] * 8


def test_training_curve_grows_then_stops(page):
    pages.start_training(page, samples=60000, epochs=2)
    pages.wait_until(lambda: pages.curve_points(page) >= 1, 60, "the curve")
    first = pages.curve_points(page)
    pages.wait_until(lambda: pages.curve_points(page) > first, 60, "the curve")
    assert page.locator("#learn-filters canvas").count() == 8
    assert pages.stop_training(page) == "stopped"
    assert page.is_enabled("#learn-start")
