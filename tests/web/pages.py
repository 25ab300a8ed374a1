"""What a person does on the page, as Playwright steps (the browser tests and
scripts/web_gallery.py share them). Chromium is Debian's package, never a download."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import numpy as np

CHROMIUM = os.environ.get("CNNLAB_CHROMIUM", "/usr/bin/chromium")
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
# A "7": a bar along the top, then a stroke down to the lower left (pad coordinates).
SEVEN = [[(70, 60), (210, 60)], [(210, 60), (120, 235)]]


def wait_until(check, timeout: float = 30.0, what: str = "the page"):
    """Poll ``check()`` from Python until it is true (the page's security policy forbids
    the script evaluation that Playwright's ``wait_for_function`` needs)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not change within {timeout} s")
        time.sleep(0.1)


def launch(playwright):
    """Headless Chromium from the system package."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def open_view(page, view: str) -> None:
    page.click(f"nav button[data-view={view}]")
    page.wait_for_selector(f"#view-{view}.active")


def draw(page, strokes=SEVEN) -> str:
    """Draw strokes on the pad like a mouse would; the top guess once it settles."""
    open_view(page, "draw")
    page.wait_for_selector("#model option", state="attached")
    box = page.locator("#pad").bounding_box()
    scale = box["width"] / 280
    for stroke in strokes:
        (x0, y0), (x1, y1) = stroke
        page.mouse.move(box["x"] + x0 * scale, box["y"] + y0 * scale)
        page.mouse.down()
        page.mouse.move(box["x"] + x1 * scale, box["y"] + y1 * scale, steps=12)
        page.mouse.up()
    page.wait_for_selector("#top1")
    page.wait_for_timeout(600)  # the last request (sent on mouse up) lands
    return page.get_attribute("#top1", "data-label")


def look_closer(page, layer_index: int = 0, channel: int = 0, where=(0.5, 0.5)) -> str:
    """Click a feature map at ``where`` (fractions of its width and height); the Look
    closer text."""
    canvas = page.locator(".layer").nth(layer_index).locator("canvas").nth(channel)
    box = canvas.bounding_box()
    canvas.click(position={"x": box["width"] * where[0], "y": box["height"] * where[1]})
    wait_until(lambda: page.text_content("#field-text"), what="the Look closer text")
    return page.text_content("#field-text")


def set_stride(page, stride: int) -> str:
    """Move the explorer's stride slider; the output shape shown."""
    open_view(page, "explorer")
    page.wait_for_selector("#conv-shape[data-shape]")
    before = page.get_attribute("#conv-shape", "data-shape")
    page.fill("#conv-stride", str(stride))
    page.dispatch_event("#conv-stride", "input")
    if stride != int(before.split("x")[0]) and stride != 1:  # the shape must change
        wait_until(lambda: page.get_attribute("#conv-shape", "data-shape") != before)
    return page.get_attribute("#conv-shape", "data-shape")


def photo_png(sample: str | None = None) -> bytes:
    """A small colour picture: the test card, or a sample photo shrunk to 256 pixels."""
    from PIL import Image

    from cnnlab.images import sample_image, test_card

    image = test_card(128) if sample is None else sample_image(sample)[::2, ::2]
    pixels = (image * 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def upload_photo(page, folder: Path, kernel: str = "sobel-x", sample: str | None = None) -> int:
    """Upload a photo and pick a kernel; the number of pictures shown."""
    open_view(page, "photos")
    page.wait_for_selector("#photo-kernel option", state="attached")
    page.select_option("#photo-kernel", kernel)
    path = folder / "photo.png"
    path.write_bytes(photo_png(sample))
    page.set_input_files("#photo-file", str(path))
    page.wait_for_selector("#photo-results img")
    page.wait_for_selector("#learned canvas")
    return page.locator("#photo-results img").count()


def curve_points(page) -> int:
    return int(page.get_attribute("#curve", "data-points"))


def start_training(page, samples: int = 3000, epochs: int = 3) -> None:
    open_view(page, "learn")
    page.fill("#learn-samples", str(samples))
    page.fill("#learn-epochs", str(epochs))
    page.click("#learn-start")


def stop_training(page) -> str:
    """Press Stop; the state the run ends in."""
    page.click("#learn-stop")
    page.wait_for_selector("#learn-status[data-state]", timeout=60_000)
    return page.get_attribute("#learn-status", "data-state")
