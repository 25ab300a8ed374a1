"""The Keras-style progress bar and small utilities."""

import io
import re

import numpy as np
import pytest

from cnnlab.models.progress import Progbar, format_eta, format_time_per_unit, format_value
from cnnlab.utils import to_categorical


def test_terminal_bar_redraws_in_place_with_eta_then_final_line():
    out = io.StringIO()
    bar = Progbar(4, stream=out, dynamic=True, interval=0.0)
    for step in range(1, 5):
        bar.update(step, [("accuracy", 0.5 + step / 10), ("loss", 1.0 / step)])
    text = re.sub(r"\x1b\[[0-9;]*m", "", out.getvalue())  # drop the colours
    frames = text.split("\r")[1:]
    assert len(frames) == 4 and text.endswith("\n") and text.count("\n") == 1
    assert re.match(
        r"1/4 ━{20} \d+s \d+(us|ms|s)/step - accuracy: 0\.6000 - loss: 1\.0000", frames[0]
    )
    assert re.match(
        r"4/4 ━{20} \d+s \d+(us|ms|s)/step - accuracy: 0\.9000 - loss: 0\.2500\n$", frames[-1]
    )
    assert "\x1b[32m" + "━" * 5 in out.getvalue()  # a quarter of the bar is green after step 1


def test_pipe_and_verbose_modes():
    out = io.StringIO()
    bar = Progbar(2, stream=out, dynamic=False)
    bar.update(1, [("loss", 0.5)])
    assert out.getvalue() == ""
    bar.update(2, [("loss", 0.25)])
    assert re.fullmatch(r"2/2 ━{20} \d+s \d+(us|ms|s)/step - loss: 0\.2500\n", out.getvalue())
    out = io.StringIO()
    bar = Progbar(None, stream=out, verbose=1, dynamic=False)
    bar.update(7, [("loss", 0.5)], finalize=True)
    assert out.getvalue().startswith("      7/Unknown ")
    out = io.StringIO()
    Progbar(3, stream=out, verbose=0).update(3, [("loss", 1.0)])
    assert out.getvalue() == ""


def test_formatting():
    assert format_value(0.123456) == "0.1235"
    assert format_value(0.0001234) == "1.2340e-04"
    assert format_value(float("nan")) == "nan"
    assert format_time_per_unit(2.4) == "2s/step"
    assert format_time_per_unit(0.0064) == "6ms/step"
    assert format_time_per_unit(0.00052) == "520us/step"
    assert format_eta(7.9) == "7s" and format_eta(65) == "1:05" and format_eta(3665) == "1:01:05"


def test_to_categorical():
    np.testing.assert_array_equal(to_categorical([[1], [0]]), [[0, 1], [1, 0]])
    assert to_categorical(np.arange(3), 5).dtype == np.float32
    with pytest.raises(ValueError, match=r"labels must be in \[0, 2\)"):
        to_categorical([0, 2], num_classes=2)
