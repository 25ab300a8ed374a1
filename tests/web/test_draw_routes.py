"""The page, the model list, /api/predict and /api/cell, with their bad requests."""

import base64

import numpy as np
import pytest

from tests.web.conftest import drawing_of, mnist_digit


def test_index_and_static_files_are_served_with_a_strict_policy(client):
    page = client.get("/")
    assert page.status_code == 200
    assert '<canvas id="pad"' in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert "http" not in page.text.replace("http-equiv", "")  # nothing fetched from elsewhere
    for name in ("common.js", "draw.js", "explorer.js", "photos.js", "learn.js", "style.css"):
        response = client.get(f"/static/{name}")
        assert response.status_code == 200, name
        assert "https://" not in response.text and "http://" not in response.text


def test_models_lists_only_the_folders_model_files(client):
    info = client.get("/api/models").json()
    assert info == {
        "models": ["colour.keras", "digits.keras"],
        "digit_models": ["digits.keras"],
        "default": "digits.keras",
    }


@pytest.mark.parametrize("label", [7, 2, 0])
def test_predict_reads_a_real_digit_and_returns_every_feature_map(client, label):
    image = mnist_digit(label)
    answer = client.post("/api/predict", json=drawing_of(image)).json()
    assert answer["top"][0]["label"] == label
    probabilities = [t["probability"] for t in answer["top"]]
    assert probabilities == sorted(probabilities, reverse=True) and sum(probabilities) <= 1 + 1e-6
    shapes = [(layer["name"], layer["shape"]) for layer in answer["layers"]]
    assert shapes == [
        ("conv1", [26, 26, 8]),
        ("pool1", [13, 13, 8]),
        ("conv2", [11, 11, 16]),
        ("pool2", [5, 5, 16]),
    ]
    for layer in answer["layers"]:
        h, w, c = layer["shape"]
        data = np.frombuffer(base64.b64decode(layer["data"]), np.uint8).reshape(c, h, w)
        assert len(layer["min"]) == len(layer["max"]) == c
        for k in range(c):  # every channel stretched to 0..255, unless it is constant
            if layer["max"][k] > layer["min"][k]:
                assert data[k].min() == 0 and data[k].max() == 255
    digit = np.array(answer["digit"])
    assert digit.shape == (28, 28) and digit.min() >= 0 and digit.max() <= 1


def test_first_layer_cell_is_window_times_kernel_plus_bias(client, models_dir):
    from cnnlab.models.saving import load_model

    request = {**drawing_of(mnist_digit(7)), "layer": "conv1", "row": 12, "col": 9, "channel": 3}
    cell = client.post("/api/cell", json=request).json()
    first = cell["first"]
    window, kernel = np.array(first["window"]), np.array(first["kernel"])
    digit = np.array(client.post("/api/predict", json=drawing_of(mnist_digit(7))).json()["digit"])
    np.testing.assert_allclose(window, digit[12:15, 9:12], atol=1e-4)
    np.testing.assert_allclose(np.array(first["products"]), window * kernel, atol=1e-6)
    assert first["sum"] == pytest.approx(float((window * kernel).sum()), abs=1e-5)
    weights = load_model(models_dir / "digits.keras", compile=False).get_layer("conv1")
    np.testing.assert_allclose(kernel, weights.get_weights()[0][:, :, 0, 3], atol=1e-6)
    assert first["bias"] == pytest.approx(float(weights.get_weights()[1][3]), abs=1e-6)
    assert first["output"] == pytest.approx(max(first["sum"] + first["bias"], 0.0), abs=1e-5)
    assert cell["value"] == pytest.approx(first["output"], abs=1e-4)  # the model's own map
    assert cell["field"] == {"top": 12, "bottom": 14, "left": 9, "right": 11}


def test_deeper_cell_has_its_receptive_field_and_no_first_layer_detail(client):
    request = {
        **drawing_of(mnist_digit(3)),
        "layer": "pool2",
        "row": 4,
        "col": 0,
        "channel": 15,
    }
    cell = client.post("/api/cell", json=request).json()
    assert cell["first"] is None
    # conv 3 -> pool 2/2 -> conv 3 -> pool 2/2: 10x10 fields, 4 pixels apart
    assert cell["field"] == {"top": 16, "bottom": 25, "left": 0, "right": 9}


BAD_PREDICTIONS = [
    ({"width": 112, "height": 112, "pixels": [0] * 10}, 400, "width*height = 12544"),
    ({"width": 4, "height": 4, "pixels": [0] * 16}, 400, "width must be an integer from 8"),
    ({"width": 8, "height": 8, "pixels": [300] * 64}, 400, "from 0 to 255"),
    ({"width": 8, "height": 8, "pixels": ["ink"] * 64}, 400, "from 0 to 255"),
    ({"width": 8, "height": 8, "pixels": [0] * 64}, 422, "draw a digit first"),
    (
        {"width": 8, "height": 8, "pixels": [9] * 64, "model": "../digits.keras"},
        404,
        "one of the served models",
    ),
    ({"width": 8, "height": 8, "pixels": [9] * 64, "model": "notes.txt"}, 404, "served models"),
    ({"width": 8, "height": 8, "pixels": [9] * 64, "model": "colour.keras"}, 422, "(32, 32, 3)"),
]


@pytest.mark.parametrize(("body", "status", "message"), BAD_PREDICTIONS)
def test_bad_drawings_get_a_4xx_with_a_message(client, body, status, message):
    response = client.post("/api/predict", json=body)
    assert response.status_code == status
    assert message in response.json()["error"]


def test_bad_bodies_are_refused_without_a_traceback(client):
    assert client.post("/api/predict", content=b"{not json").status_code == 400
    response = client.post("/api/predict", json=[1, 2, 3])
    assert response.status_code == 400 and "JSON object" in response.json()["error"]
    huge = b'{"pixels": "' + b"0" * 2_100_000 + b'"}'
    response = client.post("/api/predict", content=huge)
    assert response.status_code == 413 and "limit" in response.json()["error"]
    response = client.get("/api/predict")
    assert response.status_code == 405 and "error" in response.json()
    response = client.get("/api/nothing-here")
    assert response.status_code == 404 and "error" in response.json()
    response = client.get("/static/../models.py")
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"layer": "dense"}, "layer must be one of"),
        ({"row": 26}, "row must be an integer from 0 to 25"),
        ({"channel": -1}, "channel must be an integer from 0 to 7"),
        ({"col": "1; drop"}, "col must be an integer"),
    ],
)
def test_bad_cells_get_400(client, change, message):
    request = {**drawing_of(mnist_digit(1)), "layer": "conv1", "row": 0, "col": 0, "channel": 0}
    response = client.post("/api/cell", json={**request, **change})
    assert response.status_code == 400
    assert message in response.json()["error"]


def test_an_uploaded_model_is_kept_in_memory_and_drawn_on(client, models_dir):
    data = (models_dir / "digits.keras").read_bytes()
    files = {"model": ("../../mine.keras", data, "application/octet-stream")}
    answer = client.post("/api/models", files=files)
    assert answer.status_code == 201
    assert answer.json() == {"name": "upload: mine.keras", "takes_digits": True}
    assert not (models_dir / "mine.keras").exists()
    info = client.get("/api/models").json()
    assert info["models"][-1] == "upload: mine.keras" and info["default"] == "digits.keras"
    request = {**drawing_of(mnist_digit(7)), "model": "upload: mine.keras"}
    assert client.post("/api/predict", json=request).json()["top"][0]["label"] == 7


def test_bad_model_uploads_get_4xx(client, monkeypatch):
    from cnnlab.web import models

    def upload(name, data):
        response = client.post("/api/models", files={"model": (name, data, "x/y")})
        return response.status_code, response.json()["error"]

    status, message = upload("notes.txt", b"hello")
    assert status == 400 and "must be a .keras file" in message
    status, message = upload("fake.keras", b"PK\x03\x04 not really a zip")
    assert status == 422 and "fake.keras cannot be loaded" in message
    response = client.post("/api/models", data={"model": "a string"})
    assert response.status_code == 400 and "form field 'model'" in response.json()["error"]
    monkeypatch.setattr(models, "MAX_MODEL_BYTES", 100)
    status, message = upload("big.keras", b"0" * 1000)
    assert status == 413 and "limit is 100" in message


def test_an_unexpected_failure_is_a_500_without_a_traceback(models_dir, monkeypatch):
    from starlette.testclient import TestClient

    from cnnlab.web import create_app, draw
    from cnnlab.web.models import ModelFolder

    def broken(*args):
        raise RuntimeError("secret internals at /home/someone")

    monkeypatch.setattr(draw, "predict", broken)
    app = create_app(ModelFolder(models_dir, "digits.keras"))
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post("/api/predict", json=drawing_of(mnist_digit(1)))
    assert response.status_code == 500
    assert response.json() == {"error": "the server could not answer: RuntimeError"}
