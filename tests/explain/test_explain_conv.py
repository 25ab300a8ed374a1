"""explain_conv: the numbers of every step come from the ops and add up to the output."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cnnlab import ops
from cnnlab.explain import explain_conv

ISSUE_X = "[[1,2,3],[3,4,5],[1,0,2]]"
ISSUE_K = "[[0,1],[1,-1]]"
LECTURE_5X5 = [[3, 3, 2, 1, 0], [0, 0, 1, 3, 1], [3, 1, 2, 2, 3], [2, 0, 0, 2, 2], [2, 0, 0, 0, 1]]
LECTURE_K3 = [[0, 1, 2], [2, 2, 0], [0, 1, 2]]


def test_issue_example_steps_and_formula():
    e = explain_conv(ISSUE_X, ISSUE_K)
    assert e.output.tolist() == [[1, 2], [5, 3]]
    text = e.to_text()
    assert "O = floor((3 + 2*0 - 1*(2-1) - 1) / 1) + 1 = 2" in text
    assert "sum: 0 + 2 + 3 - 4 = 1" in text  # out[0, 0]
    assert "sum: 0 + 5 + 0 - 2 = 3" in text  # out[1, 1]
    assert "Padded input: the input itself" in text
    assert text.count("out[") == 4
    step = e.step(1, 0)
    assert step.rows == (1, 2) and step.cols == (0, 1)
    assert step.window.tolist() == [[3, 4], [1, 0]]
    assert step.total == step.output == 5


@pytest.mark.parametrize(
    ("x", "kernel", "kwargs", "expected"),
    [
        # lecture: 4x4 input, 2x2 kernel
        (
            [[5, 2, 3, 4], [6, 7, 8, 5], [4, 5, 4, 5], [1, 0, 2, 3]],
            [[1, 0], [1, -1]],
            {},
            [[4, 1, 6], [5, 8, 7], [5, 3, 3]],
        ),
        # lecture: padding SAME with an even kernel pads after (bottom/right). The slide
        # prints 4 at [1, 2], but its window [[5, 0], [2, 0]] gives 0*5 + 1*0 + 1*2 - 1*0 = 2.
        (ISSUE_X, ISSUE_K, {"padding": "same"}, [[1, 2, 5], [5, 3, 2], [0, 2, 0]]),
        # lecture: 5x5 with a 3x3 kernel, stride 2
        (
            [[1, 2, 3, 1, 0], [3, 4, 5, 2, 1], [1, 0, 2, 3, 4], [0, 1, 3, 1, 2], [1, 2, 4, 2, 3]],
            [[0, 1, 0], [1, 0, -1], [0, -1, 0]],
            {"strides": 2},
            [[0, 2], [-5, 2]],
        ),
        # lecture animation: 5x5, 3x3 kernel, no padding, and padding 1 with stride 2
        (LECTURE_5X5, LECTURE_K3, {}, [[12, 12, 17], [10, 17, 19], [9, 6, 14]]),
        (
            LECTURE_5X5,
            LECTURE_K3,
            {"padding": 1, "strides": 2},
            [[6, 17, 3], [8, 17, 13], [6, 4, 4]],
        ),
        # lecture 1-D examples
        ([1, 2, 3, 4, 5, 5, 4, 3, 2, 1], [-1, 0, 1], {}, [2, 2, 2, 1, -1, -2, -2, -2]),
        ([1, 2, 3, 4, 5], [-1, 0, 2, 0, -1], {"padding": 2}, [-1, 0, 0, 6, 7]),
        (
            [1, 2, 3, 4, 5],
            [-1, 0, 2, 0, -1],
            {"padding": 2, "padding_mode": "replicate"},
            [-2, -1, 0, 1, 2],
        ),
        (
            [1, 2, 3, 4, 5],
            [-1, 0, 2, 0, -1],
            {"padding": 2, "padding_mode": "symmetric"},
            [-3, -1, 0, 1, 3],
        ),
        (
            [1, 2, 3, 4, 5],
            [-1, 0, 2, 0, -1],
            {"padding": 2, "padding_mode": "circular"},
            [-5, -5, 0, 5, 5],
        ),
    ],
)
def test_lecture_examples(x, kernel, kwargs, expected):
    e = explain_conv(x, kernel, **kwargs)
    np.testing.assert_array_equal(e.output, expected)
    np.testing.assert_allclose(e.sums.reshape(e.output.shape), expected)


def test_padded_input_and_same_note():
    e = explain_conv(ISSUE_X, ISSUE_K, padding="same")
    np.testing.assert_array_equal(e.padded, [[1, 2, 3, 0], [3, 4, 5, 0], [1, 0, 2, 0], [0] * 4])
    text = e.to_text()
    assert "0 before, 1 after" in text
    assert "O = floor((3 + 0 + 1 - 1*(2-1) - 1) / 1) + 1 = 3" in text


def test_one_dimensional_padding_modes_show_the_padded_row():
    text = explain_conv(
        "[1,2,3,4,5]", "[-1,0,2,0,-1]", padding=2, padding_mode="symmetric"
    ).to_text()
    assert "2  1  1  2  3  4  5  5  4" in text
    assert "products -2   0   2   0  -3" in text
    assert "sum: -2 + 0 + 2 + 0 - 3 = -3" in text


@given(
    h=st.integers(1, 7),
    w=st.integers(1, 7),
    kh=st.integers(1, 3),
    kw=st.integers(1, 3),
    stride=st.integers(1, 3),
    dilation=st.integers(1, 2),
    padding=st.sampled_from(["valid", "same", "full", 1]),
    mode=st.sampled_from(["zeros", "replicate", "symmetric", "circular"]),
    convolve=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_every_step_sums_to_the_op_output(
    h, w, kh, kw, stride, dilation, padding, mode, convolve, seed
):
    rng = np.random.default_rng(seed)
    x = rng.integers(-5, 6, (h, w)).astype(float)
    k = rng.integers(-3, 4, (kh, kw)).astype(float)
    args = {"strides": stride, "padding": padding, "padding_mode": mode, "dilation_rate": dilation}
    try:
        expected = (ops.convolve2d if convolve else ops.correlate2d)(x, k, **args).numpy()
    except ValueError:  # the window does not fit: the explanation refuses as well
        with pytest.raises(ValueError):
            explain_conv(x, k, convolve=convolve, **args)
        return
    e = explain_conv(x, k, convolve=convolve, **args)
    np.testing.assert_array_equal(e.output, expected)
    np.testing.assert_allclose(e.sums, expected, atol=1e-12)
    for step in e.steps():
        window = e.padded[np.ix_(step.rows, step.cols)]
        np.testing.assert_array_equal(step.window, window)
        assert step.total == pytest.approx(step.output)


def test_convolve_flips_the_kernel():
    k = [[1, 2], [3, 4]]
    e = explain_conv(ISSUE_X, k, convolve=True)
    np.testing.assert_array_equal(e.applied_kernel, [[4, 3], [2, 1]])
    np.testing.assert_array_equal(e.output, explain_conv(ISSUE_X, [[4, 3], [2, 1]]).output)
    assert "Kernel (flipped)" in e.to_text()


def test_dilation_lists_the_rows_it_skips():
    e = explain_conv(np.arange(25.0).reshape(5, 5), [[1, 0], [0, -1]], dilation_rate=2)
    assert e.step(0, 0).rows == (0, 2)
    assert "rows {0, 2}, columns {0, 2}" in e.to_text()
    assert "O = floor((5 + 2*0 - 2*(2-1) - 1) / 1) + 1 = 3" in e.to_text()


def test_same_padding_with_dilation_spells_out_the_window_span():
    text = explain_conv("[1,2,3,4,5,6]", "[1,-1]", strides=2, padding="same", dilation_rate=2)
    assert "total = max((ceil(6/2) - 1)*2 + 2*(2-1) + 1 - 6, 0) = 1" in text.to_text()


def test_stride_that_skips_the_last_row_says_so():
    text = explain_conv(ISSUE_X, ISSUE_K, strides=2).to_text()
    assert "the last 1 row(s) of the padded input are never reached" in text


def test_large_inputs_are_summarised_unless_full():
    x = np.arange(400.0).reshape(20, 20)
    e = explain_conv(x, "[[1,0],[0,-1]]")
    text = e.to_text()
    assert "larger than 12x12" in text and "top-left corner" in text
    assert text.count("out[") == 3
    assert e.to_text(full=True).count("out[") == 19 * 19


def test_html_of_a_large_input_is_summarised_and_stays_small():
    """A photo-sized input must not become a page holding every matrix in full (a
    300x450 image once gave a 7.6 MB page): corners and the window of each step only."""
    x = np.arange(60.0 * 70).reshape(60, 70)
    page = explain_conv(x, "sobel-x", padding="same").to_html()
    assert "top-left 6x6 corner" in page and "showing the first and last steps" in page
    assert page.count('class="step"') == 3
    assert len(page) < 20_000
    full = explain_conv(x[:20, :20], "sobel-x").to_html(full=True)
    assert full.count('class="step"') == 18 * 18
    assert len(full) < 600_000  # every step, but not the whole 20x20 input per step


def test_markdown_and_html():
    e = explain_conv(ISSUE_X, ISSUE_K, padding="same")
    md = e.to_markdown()
    assert md.count("\n| (") == 9 and "`0 + 2 + 3 - 4`" in md
    page = e.to_html()
    assert page.startswith("<!DOCTYPE html>") and "http" not in page
    assert page.count('class="step"') == 9
    assert 'class="pad"' in page  # padding cells are shaded


def test_kernel_by_name_and_inputs_from_files(tmp_path):
    from PIL import Image

    x = np.array([[0, 10, 20, 30], [5, 15, 25, 35], [0, 0, 0, 0], [1, 2, 3, 4]], float)
    np.save(tmp_path / "x.npy", x)
    np.savetxt(tmp_path / "x.csv", x, delimiter=",")
    Image.fromarray(x.astype(np.uint8)).save(tmp_path / "x.png")
    reference = explain_conv(x, "sobel-x").output
    for name in ("x.npy", "x.csv", "x.png"):
        np.testing.assert_allclose(explain_conv(str(tmp_path / name), "sobel-x").output, reference)
    np.testing.assert_array_equal(reference, [[60, 60], [22, 22]])


@pytest.mark.parametrize(
    ("x", "kernel", "message"),
    [
        ("[[1,2],[3]]", "[[1]]", "ragged: row 0 has 2 values but row 1 has 1"),
        ("[[1,2],[3,4]]", "[[[1]]]", "kernel must be 1-D or 2-D"),
        ("[[1,2],[3,4]]", "[1, 2]", "the kernel must have as many axes as the input"),
        ("[[1,2],[3,4]]", "sobelx", "unknown kernel name 'sobelx'"),
        ("[[1,2],[3,4]]", "[[1,2,3]]", "does not fit"),
        ("1,2,]]", "[[1]]", "must be a matrix such as"),
        ("missing.npy", "[[1]]", "file not found"),
    ],
)
def test_bad_arguments_have_clear_messages(x, kernel, message):
    with pytest.raises(
        (ValueError, FileNotFoundError), match=message.replace("(", r"\(").replace("[", r"\[")
    ):
        explain_conv(x, kernel)
