"""explain_pool: every window's result, recomputed from its cells, equals the op's."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cnnlab import ops
from cnnlab.explain import explain_pool

X4 = "[[1,1,2,4],[5,6,7,8],[3,2,1,0],[1,2,3,4]]"
LECTURE_5X5 = [[3, 3, 2, 1, 0], [0, 0, 1, 3, 1], [3, 1, 2, 2, 3], [2, 0, 0, 2, 2], [2, 0, 0, 0, 1]]


def test_max_pool_marks_the_winner():
    e = explain_pool(X4)
    assert e.output.tolist() == [[6, 8], [3, 4]]
    assert [s.winner for s in e.steps()] == [(1, 1), (1, 3), (2, 0), (3, 3)]
    text = e.to_text()
    assert "max(1, 1, 5, 6) = 6   <- input [1, 1]" in text
    assert "[6]" in text
    assert "O = floor((4 + 2*0 - 2) / 2) + 1 = 2" in text


def test_lecture_average_pooling_3x3_stride_1():
    e = explain_pool(LECTURE_5X5, "avg", pool_size=3, strides=1)
    np.testing.assert_allclose(
        np.round(e.output, 1), [[1.7, 1.7, 1.7], [1.0, 1.2, 1.8], [1.1, 0.8, 1.3]]
    )
    assert "(3 + 3 + 2 + 0 + 0 + 1 + 3 + 1 + 2) / 9 = 1.67" in e.to_text()


def test_same_padding_never_wins_and_is_shown_as_a_dot():
    e = explain_pool(LECTURE_5X5, "max", 2, padding="same")
    assert e.output.shape == (3, 3)
    last = e.step(2, 2)
    assert last.expression == "max(1) = 1" and last.winner == (4, 4)
    text = e.to_text()
    assert "·" in text and "0 before, 1 after" in text


def test_stochastic_pooling_inference_and_seeded_draws():
    x = [[1.0, 3.0], [0.0, 0.0]]
    e = explain_pool(x, "stochastic")
    assert e.output.tolist() == [[2.5]]
    assert "p = a / sum(a) = (0.25, 0.75, 0.00, 0.00)" in e.to_text()
    drawn = explain_pool(x, "stochastic", training=True, seed=3)
    step = drawn.step(0, 0)
    assert step.value == step.output and step.output in (1.0, 3.0)
    assert step.winner in ((0, 0), (0, 1))


def test_one_dimensional_lp_pool():
    e = explain_pool("[3, 4, 1]", "lp", 2, padding="same")
    np.testing.assert_allclose(e.output, [5.0, 1.0])
    assert "(3^2 + 4^2)^(1/2) = 5" in e.to_text()


@given(
    h=st.integers(1, 6),
    w=st.integers(1, 6),
    k=st.integers(1, 3),
    s=st.integers(1, 3),
    padding=st.sampled_from(["valid", "same"]),
    pool=st.sampled_from(["max", "min", "avg", "lp", "stochastic"]),
    include_pad=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_recomputed_windows_match_the_op(h, w, k, s, padding, pool, include_pad, seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 9, (h, w)).astype(float)
    kwargs = {"pool_size": k, "strides": s, "padding": padding}
    if pool == "avg":
        kwargs["count_include_pad"] = include_pad
    op = {
        "max": ops.max_pool,
        "min": ops.min_pool,
        "avg": ops.avg_pool,
        "lp": ops.lp_pool,
        "stochastic": ops.stochastic_pool,
    }[pool]
    try:
        expected = op(x[None, :, :, None], **kwargs).numpy()[0, :, :, 0]
    except ValueError:
        with pytest.raises(ValueError):
            explain_pool(x, pool, **kwargs)
        return
    e = explain_pool(x, pool, **kwargs)
    np.testing.assert_allclose(e.output, expected)
    for step in e.steps():
        assert step.value == pytest.approx(step.output, rel=1e-12, abs=1e-12)


def test_markdown_html_and_errors():
    e = explain_pool(X4)
    assert e.to_markdown().count("\n| (") == 4
    page = e.to_html()
    assert 'class="won"' in page and "http" not in page
    with pytest.raises(ValueError, match="pool must be one of"):
        explain_pool(X4, "median")
    with pytest.raises(ValueError, match="larger than the padded input"):
        explain_pool("[[1]]", "max", 2)


def test_html_of_a_large_input_is_summarised_and_stays_small():
    x = np.arange(50.0 * 40).reshape(50, 40)
    page = explain_pool(x, pool="max", padding="same").to_html()
    assert "top-left 6x6 corner" in page and page.count('class="step"') == 3
    assert page.count('class="won"') == 3  # each shown window still marks its winner
    assert len(page) < 15_000


def test_the_padding_legend_says_what_padding_does():
    x = "[[1,2,3],[4,5,6],[7,8,9]]"
    counted = explain_pool(x, pool="avg", padding=1, count_include_pad=True).to_text()
    assert "(· = padding, counted as 0 in the mean)" in counted
    assert "never counts" not in counted
    skipped = explain_pool(x, pool="avg", padding=1).to_text()
    assert "(· = padding, never counts)" in skipped
    assert "(· = padding, never wins)" in explain_pool(x, pool="max", padding="same").to_text()
    markdown = explain_pool(x, pool="avg", padding=1, count_include_pad=True).to_markdown()
    assert "counted as 0 in the mean" in markdown
