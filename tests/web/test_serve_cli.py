"""``cnnlab serve``: what it serves, where it listens, and its bad arguments."""

import pytest
from click.testing import CliRunner

from cnnlab.cli import main


@pytest.fixture
def started(monkeypatch):
    """uvicorn.run replaced by a recorder: the app and where it would listen."""
    calls = []
    monkeypatch.setattr("uvicorn.run", lambda app, **kwargs: calls.append((app, kwargs)))
    return calls


def test_serves_a_file_from_its_folder_on_localhost(models_dir, started):
    result = CliRunner().invoke(main, ["serve", str(models_dir / "digits.keras"), "--port", "0"])
    assert result.exit_code == 0, result.output
    app, kwargs = started[0]
    assert kwargs["host"] == "127.0.0.1" and kwargs["port"] == 0
    assert app.state.models.folder == models_dir.resolve()
    assert app.state.models.default() == "digits.keras"
    assert "Warning" not in result.output


def test_other_hosts_are_warned_about(models_dir, started):
    result = CliRunner().invoke(main, ["serve", str(models_dir), "--host", "0.0.0.0"])
    assert result.exit_code == 0
    assert "Warning: listening on 0.0.0.0" in result.output


def test_without_a_model_the_home_folder_is_served(tmp_path, monkeypatch, started):
    monkeypatch.setenv("CNNLAB_HOME", str(tmp_path))
    result = CliRunner().invoke(main, ["serve", "--train-epochs", "0"])
    assert result.exit_code == 0, result.output
    assert started[0][0].state.models.folder == (tmp_path / "models").resolve()


@pytest.mark.parametrize("name", ["notes.txt", "missing.keras"])
def test_bad_model_arguments_exit_2(models_dir, started, name):
    result = CliRunner().invoke(main, ["serve", str(models_dir / name)])
    assert result.exit_code == 2
    assert "Error: MODEL must be a .keras file or a folder of them" in result.output
    assert not started


def test_a_first_default_model_is_trained_once_and_kept(tmp_path, monkeypatch, started):
    from cnnlab import zoo

    real = zoo.load_mnist_for
    monkeypatch.setattr(zoo, "load_mnist_for", lambda name: real(name, limit=300))
    monkeypatch.setenv("CNNLAB_HOME", str(tmp_path))
    result = CliRunner().invoke(main, ["serve"])
    assert result.exit_code == 0, result.output
    assert "training the lecture convnet once" in result.output
    kept = tmp_path / "models" / "convnet.keras"
    assert kept.is_file()
    assert started[0][0].state.models.default() == "convnet.keras"
    again = CliRunner().invoke(main, ["serve"])  # the second start trains nothing
    assert again.exit_code == 0 and "training" not in again.output
    assert len(started) == 2
