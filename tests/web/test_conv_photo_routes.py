"""The convolution explorer (/api/conv), the kernels and the photo filters (/api/filter)."""

import base64
import io

import numpy as np
import pytest
from PIL import Image

from cnnlab.web import photos


def loop_correlate(x, k, stride, pad, dilation):
    """Plain-loop cross-correlation with zero padding ``pad`` on every side."""
    x = np.pad(x, pad)
    kh, kw = k.shape
    span_h, span_w = dilation * (kh - 1) + 1, dilation * (kw - 1) + 1
    oh, ow = (x.shape[0] - span_h) // stride + 1, (x.shape[1] - span_w) // stride + 1
    out = np.zeros((oh, ow))
    for i in range(oh):
        for j in range(ow):
            for a in range(kh):
                for b in range(kw):
                    out[i, j] += x[i * stride + a * dilation, j * stride + b * dilation] * k[a, b]
    return out


@pytest.mark.parametrize(
    ("stride", "pad", "dilation"), [(1, 0, 1), (2, 1, 1), (1, 2, 2), (3, 1, 2)]
)
def test_explorer_output_matches_a_plain_loop(client, stride, pad, dilation):
    rng = np.random.default_rng(stride * 10 + pad)
    x = rng.integers(-3, 4, (7, 6)).astype(float)
    k = rng.integers(-2, 3, (3, 2)).astype(float)
    body = {
        "input": x.tolist(),
        "kernel": k.tolist(),
        "stride": stride,
        "padding": pad,
        "dilation": dilation,
    }
    answer = client.post("/api/conv", json=body).json()
    expected = loop_correlate(x, k, stride, pad, dilation)
    np.testing.assert_allclose(answer["output"], expected)
    assert answer["shape"] == list(expected.shape)
    assert len(answer["steps"]) == expected.size
    for step in answer["steps"]:
        assert step["sum"] == pytest.approx(expected[tuple(step["index"])])
    assert answer["axes"][0]["filled"].endswith(f"= {expected.shape[0]}")


def test_stride_padding_and_mode_change_the_output(client):
    base = {
        "input": [[1, 2, 3, 0, 1], [3, 4, 5, 1, 0], [1, 0, 2, 2, 1], [0, 1, 3, 4, 2]],
        "kernel": [[0, 1], [1, -1]],
    }
    shape = {
        s: client.post("/api/conv", json={**base, "stride": s}).json()["shape"] for s in (1, 2)
    }
    assert shape == {1: [3, 4], 2: [2, 2]}
    same = client.post("/api/conv", json={**base, "padding": "same"}).json()
    full = client.post("/api/conv", json={**base, "padding": "full"}).json()
    assert same["shape"] == [4, 5] and full["shape"] == [5, 6]
    reflect = client.post("/api/conv", json={**base, "padding": "1", "padding_mode": "reflect"})
    padded = np.array(reflect.json()["padded"])
    assert padded[0, 1] == 3 and padded[1, 0] == 2  # row 1 and column 1 mirrored outwards


BAD_CONVS = [
    ({"kernel": [[1, 2], [3]]}, 400, "rectangular 2-D list"),
    ({"input": [[1] * 17] * 3}, 400, "at most 16 per side"),
    ({"kernel": [[1] * 8]}, 400, "at most 7 per side"),
    ({"kernel": [[1, "a"]]}, 400, "rectangular 2-D list"),
    ({"stride": 0}, 400, "stride must be an integer from 1 to 5"),
    ({"padding": "middle"}, 400, "padding must be one of valid, same, full or a number"),
    ({"padding": 99}, 400, "padding must be an integer from 0 to 8"),
    ({"padding_mode": "mirror"}, 400, "padding_mode must be one of zeros"),
    ({"kernel": [[1] * 5] * 5}, 422, "does not fit"),
]


@pytest.mark.parametrize(("change", "status", "message"), BAD_CONVS)
def test_bad_explorer_requests_get_4xx(client, change, status, message):
    body = {"input": [[1, 2, 3], [4, 5, 6], [7, 8, 9]], "kernel": [[1, 0], [0, -1]], **change}
    response = client.post("/api/conv", json=body)
    assert response.status_code == status, response.json()
    assert message in response.json()["error"]


def test_non_finite_numbers_are_refused(client):
    body = b'{"input": [[1, 2], [3, 4]], "kernel": [[1, NaN]]}'
    response = client.post("/api/conv", content=body)
    assert response.status_code == 400 and "finite" in response.json()["error"]


def test_kernels_lists_the_classic_kernels(client):
    kernels = {k["name"]: k for k in client.get("/api/kernels").json()}
    assert kernels["sobel-x"]["values"] == [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]
    assert {"identity", "box-blur", "sharpen", "emboss"} <= set(kernels)


def png_bytes(array) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def decode(data_url: str) -> np.ndarray:
    assert data_url.startswith("data:image/png;base64,")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data_url.split(",", 1)[1]))))


def test_uploaded_photo_is_filtered_per_channel(client):
    photo = np.zeros((40, 60, 3), np.uint8)
    photo[:, 30:, 0] = 255  # red on the right half only
    photo[:, :, 1] = 128  # flat green
    files = {"photo": ("halves.png", png_bytes(photo), "image/png")}
    answer = client.post("/api/filter", files=files, data={"kernel": "sobel-x"}).json()
    assert answer["size"] == [40, 60]
    np.testing.assert_array_equal(decode(answer["original"]), photo)
    red, green, _ = (decode(ch["output"]).astype(int) for ch in answer["channels"])
    assert red.shape == (40, 60)
    assert set(np.argmax(red, axis=1)) <= {29, 30}  # the vertical edge between the halves
    assert green.max() - green.min() == 0  # a flat channel has no edges
    assert decode(answer["filtered"]).shape == (40, 60, 3)
    learned = answer["learned"]
    assert learned["model"] == "digits.keras" and learned["layer"] == "conv1"
    assert np.array(learned["filters"]).shape == (8, 3, 3)
    assert len(learned["applied"]) == 8 and decode(learned["applied"][0]).shape == (40, 60)


def test_samples_are_shrunk_and_filtered(client):
    answer = client.post("/api/filter", data={"sample": "testcard", "kernel": "box-blur"}).json()
    assert max(answer["size"]) <= photos.WORK_SIDE
    assert answer["kernel"]["name"] == "box-blur"


def test_bad_photos_get_4xx(client, monkeypatch):
    def post(**kwargs):
        response = client.post("/api/filter", **kwargs)
        return response.status_code, response.json()["error"]

    status, message = post(data={"kernel": "sobel-x"})
    assert status == 400 and "send a photo file" in message
    status, message = post(files={"photo": ("a.png", b"not an image", "image/png")})
    assert status == 415 and "not an image file" in message
    status, message = post(data={"sample": "dog"})
    assert status == 400 and "sample must be one of cat" in message
    status, message = post(data={"sample": "testcard", "kernel": "blurry"})
    assert status == 400 and "kernel must be one of identity" in message
    status, message = post(content=b"x=1", headers={"content-type": "text/plain"})
    assert status == 400 and "send a photo" in message
    bomb = png_bytes(np.zeros((6000, 5000), np.uint8))  # 30 megapixels in a small file
    assert len(bomb) < photos.MAX_UPLOAD_BYTES
    status, message = post(files={"photo": ("bomb.png", bomb, "image/png")})
    assert status == 413 and "6000 = 30,000,000 pixels" in message.replace("5000x", "")
    monkeypatch.setattr(photos, "MAX_UPLOAD_BYTES", 1000)
    status, message = post(files={"photo": ("big.png", b"\0" * 2000, "image/png")})
    assert status == 413 and "limit is 1,000" in message
    status, message = post(files={"photo": ("big.png", b"\0" * 200_000, "image/png")})
    assert status == 413 and "limit is 1,000" in message


def test_deeply_nested_json_is_a_400(client):
    body = b"[" * 100_000 + b"]" * 100_000
    answer = client.post("/api/conv", content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 400
    assert "levels deep" in answer.json()["error"]
