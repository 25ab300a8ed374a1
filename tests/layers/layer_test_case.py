"""One helper that checks what every layer must do (after keras' ``run_layer_test``).

``run_layer_test`` checks, for one layer configuration:

1. ``compute_output_shape`` is pure (does not build) and agrees with the real output;
2. the output has the expected shape and float32 dtype;
3. the parameter count equals Keras' formula, split into trainable / non-trainable;
4. a symbolic call on ``keras.Input`` gives the same shape;
5. one gradient step lowers a simple loss (on the trainable weights in training mode,
   or on the input for layers without weights), and every trainable weight gets a
   gradient;
6. ``get_config`` survives JSON and ``from_config`` rebuilds an equal layer, which
   computes the same outputs once given the same weights;
7. ``get_weights``/``set_weights`` round-trip and really change the output.
"""

from __future__ import annotations

import json

import numpy as np

from cnnlab import Tensor, keras


def _data(shape, rng, positive=False):
    x = rng.standard_normal(shape).astype("float32")
    return np.abs(x) + 0.1 if positive else x


def _with_batch_none(shape):
    return (None, *shape[1:])


def _as_inputs(input_shape, rng, positive):
    if isinstance(input_shape, list):
        return [_data(s, rng, positive) for s in input_shape]
    return _data(input_shape, rng, positive)


def _shapes(input_shape, fn):
    return [fn(s) for s in input_shape] if isinstance(input_shape, list) else fn(input_shape)


def _loss(y, target):
    diff = y - Tensor(target)
    return (diff * diff).mean()


def run_layer_test(
    layer_cls,
    init_kwargs,
    input_shape,
    expected_output_shape,
    expected_params,
    expected_non_trainable=0,
    positive_input=False,
    seed=0,
):
    rng = np.random.default_rng(seed)
    multi = isinstance(input_shape, list)

    # 1. compute_output_shape is pure
    layer = layer_cls(**init_kwargs)
    symbolic_in = _shapes(input_shape, _with_batch_none)
    predicted = layer.compute_output_shape(symbolic_in)
    assert not layer.built, "compute_output_shape must not build the layer"
    assert tuple(predicted) == _with_batch_none(expected_output_shape)

    # 2. real output
    x = _as_inputs(input_shape, rng, positive_input)
    y = layer(x)
    assert isinstance(y, Tensor)
    assert y.shape == tuple(expected_output_shape)
    assert y.dtype == np.float32
    assert layer.built

    # 3. parameters (Keras' formulas are given by the caller)
    assert layer.count_params() == expected_params
    trainable = sum(w.size for w in layer.trainable_weights)
    non_trainable = sum(w.size for w in layer.non_trainable_weights)
    assert (trainable, non_trainable) == (expected_params - expected_non_trainable,
                                          expected_non_trainable)  # fmt: skip
    assert len({w.path for w in layer.weights}) == len(layer.weights)
    assert all(w.path.startswith(layer.name + "/") for w in layer.weights)

    # 4. symbolic call
    fresh = layer_cls.from_config(layer.get_config() | {"name": layer.name + "_sym"})
    if multi:
        kt = fresh([keras.Input(shape=s[1:]) for s in input_shape])
    else:
        kt = fresh(keras.Input(shape=input_shape[1:]))
    assert kt.shape == _with_batch_none(expected_output_shape)

    # 5. one gradient step lowers a simple loss
    target = rng.standard_normal(y.shape).astype("float32")
    params = layer.trainable_weights
    if params:
        loss = _loss(layer(x, training=True), target)
        loss.backward()
        grads = [p.grad for p in params]
        assert all(
            g is not None and g.shape == p.shape for g, p in zip(grads, params, strict=False)
        )
        norm2 = sum(float((g.astype("float64") ** 2).sum()) for g in grads)
        assert norm2 > 0
        lr = 0.1 * float(loss.item()) / norm2
        for p, g in zip(params, grads, strict=False):
            p.data -= (lr * g).astype(p.dtype)
            p.grad = None
        after = _loss(layer(x, training=True), target)
    else:
        inputs = [Tensor(v, requires_grad=True) for v in (x if multi else [x])]
        loss = _loss(layer(inputs if multi else inputs[0]), target)
        loss.backward()
        norm2 = sum(float((t.grad.astype("float64") ** 2).sum()) for t in inputs)
        assert norm2 > 0
        lr = 0.1 * float(loss.item()) / norm2
        stepped = [t.data - (lr * t.grad).astype("float32") for t in inputs]
        if positive_input:
            stepped = [np.maximum(s, 0.0) for s in stepped]
        after = _loss(layer(stepped if multi else stepped[0]), target)
    assert after.item() < loss.item()

    # 6. config round trip through JSON
    config = json.loads(json.dumps(layer.get_config()))
    clone = layer_cls.from_config(config)
    assert json.loads(json.dumps(clone.get_config())) == config
    assert clone.name == layer.name
    clone(x)
    clone.set_weights(layer.get_weights())
    np.testing.assert_array_equal(clone(x).numpy(), layer(x).numpy())

    # 7. get/set_weights
    weights = layer.get_weights()
    if weights:
        before = layer(x).numpy()
        layer.set_weights([w + 0.5 for w in weights])
        assert not np.array_equal(layer(x).numpy(), before)
        layer.set_weights(weights)
        np.testing.assert_array_equal(layer(x).numpy(), before)
    return layer
