"""Exact error messages: at construction, at build and at call time."""

import re

import numpy as np
import pytest

from cnnlab import keras
from cnnlab.keras import layers


def msg(text):
    return re.escape(text)


# ---- construction -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "make,error,text",
    [
        (lambda: layers.Conv2D(5, 3, groups=2), ValueError,
         "The number of filters must be evenly divisible by the number of groups. "
         "Received: groups=2, filters=5."),
        (lambda: layers.Conv2D(0, 3), ValueError,
         "Invalid value for argument `filters`. Expected a strictly positive value. "
         "Received filters=0."),
        (lambda: layers.Conv2D(4, 3, groups=0), ValueError,
         "The number of groups must be a positive integer. Received: groups=0."),
        (lambda: layers.Conv2D(4, (0, 3)), ValueError,
         "Conv2D: kernel_size must be >= 1. Received: kernel_size=(0, 3)"),
        (lambda: layers.Conv2D(4, (3, 3, 3)), ValueError,
         "Conv2D: kernel_size must be an int or a tuple of 2 ints. Received: (3, 3, 3)"),
        (lambda: layers.Conv2D(4, 3, padding="causal"), ValueError,
         "Conv2D: padding='causal' is only supported for 1-D convolutions (Conv1D)."),
        (lambda: layers.Conv2D(4, 3, padding="mirror"), ValueError,
         "Conv2D: padding must be one of 'valid', 'same', 'full'"),
        (lambda: layers.Conv2D(4, 3, padding_mode="mirror"), ValueError,
         "Conv2D: unknown padding_mode 'mirror'; use one of zeros, constant, replicate, "
         "reflect, symmetric, circular"),
        (lambda: layers.Conv2D(4, 3, data_format="NHWC"), ValueError,
         "The `data_format` argument must be one of {'channels_first', 'channels_last'}. "
         "Received: data_format='NHWC'"),
        (lambda: layers.Conv2D(4, 3, activation="swishy"), ValueError,
         "get_activation: unknown activation 'swishy'"),
        (lambda: layers.Conv2D(4.0, 3), TypeError,
         "Conv2D: `filters` must be a positive integer. Received: filters=4.0"),
        (lambda: layers.Dense(0), ValueError,
         "Invalid value for argument `units`. Expected a strictly positive value. "
         "Received units=0."),
        (lambda: layers.Dense(3, foo=1), TypeError,
         "Unrecognized keyword arguments passed to Dense: {'foo': 1}"),
        (lambda: layers.Dense(3, name="a/b"), ValueError,
         "Argument `name` must be a string and cannot contain character `/`. "
         "Received: name='a/b'"),
        (lambda: layers.Dropout(1.5), ValueError,
         "Invalid value received for argument `rate`. Expected a float value between 0 "
         "(inclusive) and 1 (exclusive). Received: rate=1.5"),
        (lambda: layers.MaxPooling2D(padding="full"), ValueError,
         "MaxPooling2D: padding must be 'valid' or 'same'. Received: padding='full'"),
        (lambda: layers.LpPooling2D(p=0), ValueError,
         "LpPooling2D: p must be a positive number. Received: p=0"),
        (lambda: layers.LocallyConnected2D(2, 3, padding="same"), ValueError,
         "LocallyConnected2D: only padding='valid' is supported (as in Keras 2). "
         "Received: padding='same'"),
        (lambda: layers.Reshape((-1, -1)), ValueError,
         "Reshape: target_shape must hold positive sizes and at most one -1."),
        (lambda: layers.BatchNormalization(momentum=2), ValueError,
         "BatchNormalization: momentum must be in [0, 1]. Received: momentum=2"),
        (lambda: keras.Input(shape=(3,), batch_shape=(None, 3)), ValueError,
         "You cannot pass both `shape` and `batch_shape` at the same time."),
        (lambda: keras.Input(), ValueError,
         "You must pass a `shape` argument to keras.Input / InputLayer."),
    ],
)  # fmt: skip
def test_construction_errors(make, error, text):
    with pytest.raises(error, match=msg(text)):
        make()


# ---- build and call ---------------------------------------------------------------------
def test_wrong_rank_names_layer_and_shape():
    conv = layers.Conv2D(4, 3, name="conv_a")
    with pytest.raises(ValueError, match=msg(
        'Input 0 of layer "conv_a" is incompatible with the layer: expected ndim=4, found '
        "ndim=3. Full shape received: (2, 28, 28)"
    )):  # fmt: skip
        conv(np.zeros((2, 28, 28), dtype="float32"))


def test_wrong_rank_symbolic():
    with pytest.raises(ValueError, match=msg(
        'Input 0 of layer "conv_b" is incompatible with the layer: expected ndim=4, found '
        "ndim=2. Full shape received: (None, 784)"
    )):  # fmt: skip
        layers.Conv2D(4, 3, name="conv_b")(keras.Input(shape=(784,)))


def test_wrong_channels_after_build():
    conv = layers.Conv2D(4, 3, name="conv_c")
    conv(np.zeros((1, 5, 5, 3), dtype="float32"))
    with pytest.raises(ValueError, match=msg(
        'Input 0 of layer "conv_c" is incompatible with the layer: expected axis -1 of input '
        "shape to have value 3, but received input with shape (1, 5, 5, 1)"
    )):  # fmt: skip
        conv(np.zeros((1, 5, 5, 1), dtype="float32"))


def test_channels_not_divisible_by_groups():
    with pytest.raises(ValueError, match=msg(
        "The number of input channels must be evenly divisible by the number of groups. "
        "Received groups=2, but the input has 3 channels (full input shape is "
        "(None, 8, 8, 3))."
    )):  # fmt: skip
        layers.Conv2D(4, 3, groups=2)(keras.Input(shape=(8, 8, 3)))


def test_kernel_larger_than_input():
    with pytest.raises(ValueError, match=msg(
        'Layer "conv_d" (Conv2D): computed output size would be negative: the kernel (5, 5) '
        "(dilation_rate=(1, 1)) does not fit the input. Received input shape (None, 3, 3, 1) "
        "with padding='valid'."
    )):  # fmt: skip
        layers.Conv2D(4, 5, name="conv_d")(keras.Input(shape=(3, 3, 1)))


def test_kernel_larger_than_input_at_call_time():
    conv = layers.Conv2D(4, 3, name="conv_e")
    conv.build((None, None, None, 1))
    with pytest.raises(ValueError, match=msg(
        'Layer "conv_e" (Conv2D): computed output size would be negative'
    )):  # fmt: skip
        conv(np.zeros((1, 2, 2, 1), dtype="float32"))


def test_pool_larger_than_input():
    with pytest.raises(ValueError, match=msg(
        'Layer "pool_a" (MaxPooling2D): computed output size would be negative: '
        "pool_size=(3, 3) does not fit the input. Received input shape (None, 2, 2, 1) "
        "with padding='valid'."
    )):  # fmt: skip
        layers.MaxPooling2D(3, name="pool_a")(keras.Input(shape=(2, 2, 1)))


def test_dense_feature_mismatch():
    dense = layers.Dense(2, name="dense_a")
    dense(np.zeros((1, 4), dtype="float32"))
    with pytest.raises(ValueError, match=msg(
        'Input 0 of layer "dense_a" is incompatible with the layer: expected axis -1 of input '
        "shape to have value 4, but received input with shape (1, 5)"
    )):  # fmt: skip
        dense(np.zeros((1, 5), dtype="float32"))


def test_dense_needs_2d():
    with pytest.raises(ValueError, match=msg(
        'Input 0 of layer "dense_b" is incompatible with the layer: expected min_ndim=2, '
        "found ndim=1. Full shape received: (4,)"
    )):  # fmt: skip
        layers.Dense(2, name="dense_b")(np.zeros(4, dtype="float32"))


def test_reshape_size_mismatch():
    with pytest.raises(ValueError, match=msg(
        'Layer "reshape_a" (Reshape): the total size of the new array must be unchanged. '
        "Received input shape (None, 10), target_shape=(3, 3)"
    )):  # fmt: skip
        layers.Reshape((3, 3), name="reshape_a")(keras.Input(shape=(10,)))


def test_merge_errors():
    a, b = keras.Input(shape=(4,)), keras.Input(shape=(5,))
    with pytest.raises(ValueError, match=msg(
        'Layer "add_a" (Add): inputs have incompatible shapes. Received shapes (None, 4) '
        "and (None, 5)"
    )):  # fmt: skip
        layers.Add(name="add_a")([a, b])
    with pytest.raises(ValueError, match=msg(
        'Layer "add_b" (Add) should be called on a list of inputs. Received: '
        "input_shape=(None, 4)"
    )):  # fmt: skip
        layers.Add(name="add_b")(a)
    x, y = keras.Input(shape=(4, 4, 2)), keras.Input(shape=(5, 5, 3))
    with pytest.raises(ValueError, match=msg(
        'Layer "cat_a": a `Concatenate` layer requires inputs with matching shapes except '
        "for the concatenation axis (axis=-1). Received: input_shape=[(None, 4, 4, 2), "
        "(None, 5, 5, 3)]"
    )):  # fmt: skip
        layers.Concatenate(name="cat_a")([x, y])


def test_set_weights_errors():
    dense = layers.Dense(2, name="dense_c")
    dense.build((None, 3))
    with pytest.raises(ValueError, match=msg(
        "You called `set_weights(weights)` on layer 'dense_c' with a weight list of length 1, "
        "but the layer was expecting 2 weights."
    )):  # fmt: skip
        dense.set_weights([np.zeros((3, 2))])
    with pytest.raises(ValueError, match=msg(
        "Layer dense_c weight shape (2,) is not compatible with provided weight shape (3,)."
    )):  # fmt: skip
        dense.set_weights([np.zeros((3, 2)), np.zeros(3)])


def test_count_params_unbuilt():
    with pytest.raises(ValueError, match=msg(
        "You tried to call `count_params` on layer 'dense_d', but the layer isn't built."
    )):  # fmt: skip
        layers.Dense(2, name="dense_d").count_params()


def test_mixed_symbolic_and_concrete_inputs():
    with pytest.raises(ValueError, match="mix of symbolic KerasTensors and concrete data"):
        layers.Add()([keras.Input(shape=(2,)), np.zeros((1, 2))])


def test_symbolic_tensor_has_no_values():
    with pytest.raises(TypeError, match="symbolic placeholder and holds no values"):
        np.asarray(keras.Input(shape=(2,)))


def test_output_of_uncalled_layer():
    with pytest.raises(AttributeError, match=msg(
        "The layer dense_e has never been called on a symbolic input (keras.Input) and thus "
        "has no defined output."
    )):  # fmt: skip
        _ = layers.Dense(2, name="dense_e").output


def test_several_inputs_to_a_one_input_layer():
    data = [np.zeros((2, 4), "float32")] * 2
    with pytest.raises(ValueError, match=msg('Layer "dense_m" expects 1 input(s), but it '
                                             "received 2 input tensors.")):  # fmt: skip
        layers.Dense(3, name="dense_m")(data)
    with pytest.raises(ValueError, match=msg('Layer "dense_s" expects 1 input(s)')):
        layers.Dense(3, name="dense_s")([keras.Input(shape=(4,)), keras.Input(shape=(4,))])


def test_inputs_that_are_not_numbers():
    with pytest.raises(TypeError, match=msg(
        'Layer "dense_t": inputs must hold numbers (bool, int or float). Received an array '
        "of dtype <U1 and shape (1, 2)"
    )):  # fmt: skip
        layers.Dense(3, name="dense_t")(np.array([["a", "b"]]))
    with pytest.raises(ValueError, match=msg('Layer "dense_r": inputs must be a rectangular')):
        layers.Dense(3, name="dense_r")([[1.0, 2.0], [3.0]])
    with pytest.raises(TypeError, match="dtype complex128"):
        layers.Dense(3)(np.zeros((1, 2), complex))
