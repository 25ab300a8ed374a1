"""Watch it learn: /api/train, its Server-Sent Events, stop, one run at a time."""

import json
import math

import pytest


def read_events(client, since: int = 0) -> list[dict]:
    """Every event of the current run from ``since`` on (the stream ends with "done")."""
    events = []
    with client.stream("GET", f"/api/train/events?since={since}") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        for line in stream.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line[len("data: ") :]))
    return events


def test_a_run_streams_its_curve_and_filters_until_done(client):
    started = client.post("/api/train", json={"samples": 640, "epochs": 2, "batch_size": 64})
    assert started.status_code == 202 and started.json()["state"] == "running"
    events = read_events(client)
    kinds = [e["type"] for e in events]
    assert kinds[0] == "start" and kinds[-1] == "done"
    assert events[-1]["state"] == "finished"
    progress = [e for e in events if e["type"] == "progress"]
    assert [p["step"] for p in progress] == [5, 10, 15, 20]  # every 5 batches of 10 per epoch
    assert all(math.isfinite(p["loss"]) and 0 <= p["accuracy"] <= 1 for p in progress)
    assert len(progress[0]["filters"]) == 8 and len(progress[0]["filters"][0]) == 3
    assert progress[0]["filters"] != progress[-1]["filters"]  # the filters learn
    assert [e["epoch"] for e in events if e["type"] == "epoch"] == [0, 1]
    assert client.get("/api/train").json()["state"] == "finished"
    assert read_events(client, since=len(events) - 1) == events[-1:]


def test_one_run_at_a_time_and_stop(client):
    assert client.post("/api/train", json={"samples": 60000, "epochs": 10}).status_code == 202
    second = client.post("/api/train", json={})
    assert second.status_code == 409 and "still training" in second.json()["error"]
    stopped = client.post("/api/train/stop")
    assert stopped.status_code == 200
    events = read_events(client)
    assert events[-1]["type"] == "done" and events[-1]["state"] == "stopped"
    steps = [e["step"] for e in events if e["type"] == "progress"]
    assert len(steps) < 5  # far from the 9,380 steps asked for
    again = client.post("/api/train/stop")
    assert again.status_code == 409 and "no training run" in again.json()["error"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"dataset": "cifar10"}, "dataset must be one of mnist, fashion_mnist"),
        ({"epochs": 0}, "epochs must be an integer from 1 to 10"),
        ({"samples": 10**9}, "samples must be an integer from 100 to 60000"),
        ({"batch_size": True}, "batch_size must be an integer"),
    ],
)
def test_bad_settings_get_400(client, body, message):
    response = client.post("/api/train", json=body)
    assert response.status_code == 400 and message in response.json()["error"]


def test_events_before_any_run_and_bad_since(client):
    assert client.get("/api/train").json() == {"run": None, "state": "idle"}
    response = client.get("/api/train/events")
    assert response.status_code == 404 and "no training run" in response.json()["error"]
    assert client.post("/api/train/stop").status_code == 409
    response = client.get("/api/train/events?since=-3")
    assert response.status_code == 400 and "since must be an integer" in response.json()["error"]


def test_missing_data_is_a_503_event(client, monkeypatch, tmp_path):
    from cnnlab.datasets import _idx

    monkeypatch.setenv("CNNLAB_DATA", str(tmp_path))
    monkeypatch.setenv("CNNLAB_HOME", str(tmp_path))
    monkeypatch.setattr("cnnlab.datasets._download.download", _refuse_download)
    _idx.clear_memory_cache()
    client.post("/api/train", json={"dataset": "fashion_mnist"})
    events = read_events(client)
    _idx.clear_memory_cache()
    assert events[-1]["state"] == "failed"
    assert "fashion_mnist is not available" in events[-2]["message"]


def _refuse_download(*args, **kwargs):
    from cnnlab.datasets import DownloadError

    raise DownloadError("offline")
