"""Explanations render as HTML tables in Jupyter (``_repr_html_``), styled only inside
their own block."""

import re

from cnnlab.explain import explain_conv, explain_model, explain_pool
from cnnlab.explain.render import NOTEBOOK_CLASS, scoped_style


def test_conv_explanation_is_a_scoped_block_of_tables():
    e = explain_conv("[[1,2,3],[3,4,5],[1,0,2]]", "[[0,1],[1,-1]]")
    block = e._repr_html_()
    assert block.startswith(f'<div class="{NOTEBOOK_CLASS}"><style>') and block.endswith("</div>")
    assert "<html" not in block and "<body" not in block and "<h1>" not in block
    assert f"<h3>{e.title()}</h3>" in block
    assert block.count("<table") == 3 + 3 * 4 + 1  # input, kernel, padded; 4 steps; output
    style = re.search(r"<style>(.*?)</style>", block, re.S).group(1)
    selectors = [s.strip() for rule in re.findall(r"([^{}]+)\{", style) for s in rule.split(",")]
    assert selectors and all(s.startswith(f".{NOTEBOOK_CLASS}") for s in selectors)


def test_pool_and_model_explanations_render_too():
    pool = explain_pool("[[1,3,2,4],[5,6,7,8],[3,2,1,0],[1,2,3,4]]", pool="max")._repr_html_()
    assert "won" in pool and pool.count("<table") >= 5
    model = explain_model("convnet")._repr_html_()
    assert '<table class="rows">' in model and "104,202" in model


def test_scoped_style_turns_body_into_the_block():
    assert scoped_style("body{margin:0}h1,td.pad{color:red}", "x") == (
        ".x{margin:0}\n.x h1,.x td.pad{color:red}"
    )
