"""cnnlab explain conv|pool|model from the command line."""

from click.testing import CliRunner

from cnnlab.cli import main

X = "[[1,2,3],[3,4,5],[1,0,2]]"
K = "[[0,1],[1,-1]]"


def run(*args):
    return CliRunner().invoke(main, list(args))


def test_explain_conv_prints_the_steps():
    result = run("explain", "conv", "--input", X, "--kernel", K)
    assert result.exit_code == 0, result.output
    assert "sum: 0 + 2 + 3 - 4 = 1" in result.output
    assert "O = floor((3 + 2*0 - 1*(2-1) - 1) / 1) + 1 = 2" in result.output
    assert result.output.rstrip().endswith("1  2\n  5  3")


def test_explain_conv_options():
    result = run(
        "explain",
        "conv",
        "--input",
        X,
        "--kernel",
        K,
        "--stride",
        "2",
        "--padding",
        "same",
        "--padding-mode",
        "reflect",
        "--dilation",
        "1",
        "--convolve",
    )
    assert result.exit_code == 0, result.output
    assert "padding_mode 'reflect'" in result.output and "Kernel (flipped)" in result.output
    explicit = run("explain", "conv", "--input", X, "--kernel", K, "--padding", "0,1,0,1")
    assert explicit.exit_code == 0 and "0 before, 1 after" in explicit.output


def test_explain_pool_and_model():
    result = run(
        "explain",
        "pool",
        "--input",
        "[[1,1,2,4],[5,6,7,8],[3,2,1,0],[1,2,3,4]]",
        "--pool",
        "max",
        "--size",
        "2",
    )
    assert result.exit_code == 0 and "<- input [1, 1]" in result.output
    result = run("explain", "model", "convnet-nopool", "--format", "markdown")
    assert result.exit_code == 0 and "| 7x7 |" in result.output
    result = run(
        "explain",
        "model",
        "--input-shape",
        "128,128,3",
        "--layers",
        "SeparableConv2D(16, 3, padding='same', use_bias=False)",
    )
    assert result.exit_code == 0 and "3*3*3 + 3*16 = 75" in result.output


def test_writes_files_atomically_and_refuses_to_overwrite(tmp_path):
    out = tmp_path / "conv.html"
    result = run(
        "explain", "conv", "--input", X, "--kernel", K, "--format", "html", "--out", str(out)
    )
    assert result.exit_code == 0
    page = out.read_text()
    assert "<table" in page and "http" not in page
    again = run("explain", "conv", "--input", X, "--kernel", K, "--out", str(out))
    assert again.exit_code == 2 and "already exists" in again.output
    assert out.read_text() == page
    forced = run("explain", "conv", "--input", X, "--kernel", K, "--out", str(out), "--overwrite")
    assert forced.exit_code == 0 and out.read_text().startswith("Cross-correlation")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["conv.html"]


def test_bad_arguments_fail_cleanly(tmp_path):
    out = tmp_path / "x.txt"
    cases = [
        (["--input", "[[1,2],[3]]", "--kernel", K], "ragged"),
        (["--input", X, "--kernel", "[[[1,2]]]"], "kernel must be 1-D or 2-D"),
        (["--input", X, "--kernel", "[1, 2]"], "as many axes as the input"),
        (["--input", X, "--kernel", "blur3"], "unknown kernel name 'blur3'"),
        (["--input", "nothere.npy", "--kernel", K], "file not found"),
        (["--input", X, "--kernel", K, "--padding", "sometimes"], "padding"),
    ]
    for args, message in cases:
        result = run("explain", "conv", *args, "--out", str(out))
        assert result.exit_code != 0, args
        assert message in result.output, (args, result.output)
        assert "Traceback" not in result.output
        assert not out.exists()
    result = run("explain", "model")
    assert result.exit_code == 2 and "give a MODEL" in result.output
