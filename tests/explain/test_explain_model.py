"""explain_model: the lecture's arithmetic claims come out of the table."""

import pytest

from cnnlab import zoo
from cnnlab.explain import explain_model, parse_layers


def test_three_unpadded_3x3_convolutions_see_7x7():
    e = explain_model("convnet-nopool")
    last = [r for r in e.rows if r.class_name == "Conv2D"][-1]
    assert last.rf == (7, 7) and last.jump == (1, 1)
    assert last.output_shape == (22, 22, 128)
    assert e.row(e.rows[4].name).output_shape == (61952,)  # 22*22*128 values to flatten
    assert e.total_params == 712_202
    assert "sees a 7x7 window of the 28x28 input" in e.to_text()
    assert "holds 87% of the parameters (619,530 of 712,202)" in e.to_text()


def test_pooling_lets_the_last_convolution_see_most_of_the_digit():
    e = explain_model("convnet")
    convs = [r for r in e.rows if r.class_name == "Conv2D"]
    assert [r.rf for r in convs] == [(3, 3), (8, 8), (18, 18)]
    assert [r.jump for r in convs] == [(1, 1), (2, 2), (4, 4)]
    assert convs[1].params_formula == "3*3*32*64 + 64 = 18,496"
    assert convs[0].macs_formula == "3*3*1*26*26*32 = 194,688"
    assert e.total_params == 104_202
    assert e.rows[-1].rf is None  # the Dense layer sees everything


@pytest.mark.parametrize("name", ["dense", "convnet", "convnet-nopool"])
def test_parameter_counts_match_the_built_layers(name):
    model = zoo.build_model(name)
    e = explain_model(model)
    counted = {layer.name: layer.count_params() for layer in model.layers}
    for row in e.rows[1:]:
        assert row.params == counted[row.name], row.name
    assert e.total_params == model.count_params()


def test_depthwise_separable_versus_regular_convolution():
    regular = explain_model(
        input_shape=(128, 128, 3), layers="Conv2D(16, 3, padding='same', use_bias=False)"
    ).rows[1]
    separable = explain_model(
        input_shape=(128, 128, 3), layers="SeparableConv2D(16, 3, padding='same', use_bias=False)"
    ).rows[1]
    assert regular.params_formula == "3*3*3*16 = 432"
    assert separable.params_formula == "3*3*3 + 3*16 = 75"
    assert regular.macs_formula == "3*3*3*128*128*16 = 7,077,888"
    assert separable.macs_formula == "3*3*3*128*128 + 128*128*3*16 = 1,228,800"
    with_bias = explain_model(input_shape=(128, 128, 3), layers="sepconv(16, 3)").rows[1]
    assert with_bias.params == 75 + 16 and with_bias.output_shape == (126, 126, 16)


def test_strides_dilation_and_other_layers():
    e = explain_model(
        input_shape=(32, 32, 3),
        layers="Conv2D(8, 5, strides=2, padding='same'); BatchNormalization; "
        "DepthwiseConv2D(3, depth_multiplier=2, dilation_rate=2); GlobalAveragePooling2D(); "
        "Dropout(0.5); Dense(10)",
    )
    conv, bn, dw, gap, _, dense = e.rows[1:]
    assert conv.output_shape == (16, 16, 8) and conv.rf == (5, 5) and conv.jump == (2, 2)
    assert bn.params == 32 and bn.trainable_params == 16
    assert dw.output_shape == (12, 12, 16) and dw.rf == (13, 13)
    assert dw.params_formula == "3*3*8*2 + 8*2 = 160"
    assert gap.output_shape == (16,) and gap.rf is None
    assert dense.params_formula == "16*10 + 10 = 170"


def test_one_filter_and_one_unit_are_singular():
    text = explain_model(
        input_shape=(9, 9, 1), layers="Conv2D(1, 3), Conv2D(2, 3), Flatten(), Dense(1)"
    ).to_text()
    assert "Conv2D 3x3, 1 filter " in text and "Conv2D 3x3, 2 filters" in text
    assert "Dense 1 unit " in text and "1 filters" not in text


def test_saved_model_file(tmp_path):
    from cnnlab.models.saving import save_model

    path = tmp_path / "net.keras"
    save_model(zoo.build_model("convnet"), path)
    e = explain_model(str(path))
    assert e.total_params == 104_202 and e.name == "net"


def test_renderings():
    e = explain_model("convnet")
    text = e.to_text()
    assert "Receptive field" in text and "18x18" in text
    assert "Total: 104,202 parameters" in text
    md = e.to_markdown()
    assert "`3*3*32*64 + 64 = 18,496`" in md and md.count("\n| ") == 9
    assert "<table" in e.to_html() and "http" not in e.to_html()


def test_layer_list_errors():
    with pytest.raises(ValueError, match="unknown layer 'Conv3X'"):
        parse_layers("Conv3X(3)")
    with pytest.raises(ValueError, match="at most 1 positional"):
        parse_layers("Dense(10, 20)")
    with pytest.raises(ValueError, match="must be literals"):
        parse_layers("Dense(units=n)")
    with pytest.raises(ValueError, match="cannot parse the layer list"):
        parse_layers("Conv2D(32, 3")
    with pytest.raises(ValueError, match="layers need an input_shape"):
        explain_model(layers="Dense(10)")
    with pytest.raises(
        ValueError,
        match=r'layer "conv2d" \(Conv2D\): a 3x3 window does not fit its 2x2 input with padding '
        r"'valid' \(input shape \(2, 2, 1\)\)",
    ):
        explain_model(input_shape=(2, 2, 1), layers="Conv2D(4, 3)")
    with pytest.raises(ValueError, match=r'layer "max_pooling2d_1" .* 2x2 window .* 1x1 input'):
        explain_model(input_shape=(3, 3, 1), layers="MaxPooling2D(2), MaxPooling2D(2)")
    with pytest.raises(FileNotFoundError, match="no model named 'convnet2'"):
        explain_model("convnet2")
