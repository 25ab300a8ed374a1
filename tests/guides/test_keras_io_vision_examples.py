"""keras.io's vision examples run as a user would: the Keras 3 calls of each example with
only the imports changed, synthetic data of the same shape (smaller sizes where noted),
and TensorFlow-only parts (``tf.data``, ``GradientTape``) replaced by their cnnlab
equivalent (autograd on a Tensor: ``backward()`` and ``.grad``).

* "Image classification from scratch": Rescaling + augmentation, an Xception-like net
  of SeparableConv2D blocks with residual adds, ModelCheckpoint("save_at_{epoch}.keras"),
  load_img/img_to_array, ops.sigmoid on the prediction;
* "Grad-CAM class activation visualization": model surgery with
  ``get_layer(...).output``, the gradient of a class score with respect to the last
  convolution's activations, the heatmap superimposed with ``array_to_img``;
* "Visualizing what convnets learn": a feature extractor on a named layer of
  ``keras.applications.MobileNetV2`` and gradient ascent on the input image;
* "Image super-resolution using an efficient sub-pixel CNN": the example's
  ``DepthToSpace`` layer written with ``keras.ops`` on inputs of unknown size,
  ``ops.depth_to_space``, EarlyStopping, best-only weight checkpoints, a PSNR callback.
"""

import math

import numpy as np
import pytest
import torch

from cnnlab import Tensor, keras
from cnnlab.keras import layers, ops

RNG = np.random.default_rng(0)


# ---- image classification from scratch -----------------------------------------------------
def make_model(input_shape, num_classes, sizes=(256, 512, 728), entry=128, last=1024):
    """The example's ``make_model`` (sizes are arguments so the test can shrink them)."""
    inputs = keras.Input(shape=input_shape)
    x = layers.Rescaling(1.0 / 255)(inputs)
    x = layers.Conv2D(entry, 3, strides=2, padding="same")(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    previous_block_activation = x
    for size in sizes:
        x = layers.Activation("relu")(x)
        x = layers.SeparableConv2D(size, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
        x = layers.SeparableConv2D(size, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
        residual = layers.Conv2D(size, 1, strides=2, padding="same")(previous_block_activation)
        x = layers.add([x, residual])
        previous_block_activation = x
    x = layers.SeparableConv2D(last, 3, padding="same")(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu", name="last_conv_act")(x)
    x = layers.GlobalAveragePooling2D()(x)
    units = 1 if num_classes == 2 else num_classes
    x = layers.Dropout(0.25)(x)
    outputs = layers.Dense(units, activation=None)(x)
    return keras.Model(inputs, outputs)


def _xception_like_params(sizes, entry, last, channels=3, units=1):
    """Keras' parameter rules, counted by hand: conv ``k*k*C*F + F``, separable
    ``k*k*C + C*F + F``, batch norm ``4*C`` (2 trainable, 2 moving)."""
    total = 9 * channels * entry + entry + 4 * entry
    previous = entry
    for size in sizes:
        total += (9 * previous + previous * size + size) + 4 * size
        total += (9 * size + size * size + size) + 4 * size
        total += previous * size + size
        previous = size
    total += 9 * previous + previous * last + last + 4 * last
    return total + last * units + units


def test_image_classification_from_scratch(tmp_path, monkeypatch):
    full = make_model(input_shape=(180, 180, 3), num_classes=2)
    assert full.count_params() == _xception_like_params((256, 512, 728), 128, 1024)
    assert full.output_shape == (None, 1)
    # (the example's plot_model call is left out: drawing 40 layers takes seconds, and
    # tests/viz covers plot_model)

    data_augmentation_layers = [layers.RandomFlip("horizontal"), layers.RandomRotation(0.1)]

    def data_augmentation(images):
        for layer in data_augmentation_layers:
            images = layer(images)
        return images

    image_size = (32, 32)
    images = RNG.uniform(0, 255, (24, *image_size, 3)).astype("float32")
    labels = (images[..., 0].mean((1, 2)) > images[..., 2].mean((1, 2))).astype("float32")
    augmented = np.asarray(data_augmentation(images))
    assert augmented.shape == images.shape and not np.allclose(augmented, images)

    model = make_model(input_shape=(*image_size, 3), num_classes=2, sizes=(8, 16), entry=8,
                       last=32)  # fmt: skip
    monkeypatch.chdir(tmp_path)
    callbacks = [keras.callbacks.ModelCheckpoint("save_at_{epoch}.keras")]
    model.compile(
        optimizer=keras.optimizers.Adam(3e-4),
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        metrics=[keras.metrics.BinaryAccuracy(name="acc")],
    )
    history = model.fit(augmented[:16], labels[:16], epochs=2, batch_size=8, callbacks=callbacks,
                        validation_data=(images[16:], labels[16:]), verbose=0)  # fmt: skip
    assert set(history.history) == {"loss", "acc", "val_loss", "val_acc"}
    assert sorted(p.name for p in tmp_path.glob("save_at_*.keras")) == [
        "save_at_1.keras", "save_at_2.keras",
    ]  # fmt: skip

    keras.utils.save_img(tmp_path / "cat.jpg", images[0])
    img = keras.utils.load_img(tmp_path / "cat.jpg", target_size=image_size)
    img_array = keras.utils.img_to_array(img)
    img_array = keras.ops.expand_dims(img_array, 0)  # create batch axis
    predictions = model.predict(img_array, verbose=0)
    score = float(keras.ops.sigmoid(predictions[0][0]))
    assert 0.0 < score < 1.0
    reloaded = keras.models.load_model("save_at_2.keras")
    np.testing.assert_allclose(reloaded.predict(img_array, verbose=0), predictions, rtol=1e-5)


# ---- Grad-CAM -------------------------------------------------------------------------------
def make_gradcam_heatmap(img_array, model, last_conv_layer_name, pred_index=None):
    """The example's function; ``tf.GradientTape`` becomes autograd on the output Tensors."""
    grad_model = keras.models.Model(
        model.input, [model.get_layer(last_conv_layer_name).output, model.output]
    )
    last_conv_layer_output, preds = grad_model(img_array)
    last_conv_layer_output.retain_grad()
    if pred_index is None:
        pred_index = int(ops.argmax(preds[0]))
    class_channel = preds[:, pred_index]
    class_channel.sum().backward()
    grads = last_conv_layer_output.grad
    pooled_grads = ops.mean(grads, axis=(0, 1, 2))
    last_conv_layer_output = last_conv_layer_output[0]
    heatmap = last_conv_layer_output @ pooled_grads[..., None]
    heatmap = ops.squeeze(heatmap)
    heatmap = ops.maximum(heatmap, 0) / ops.max(heatmap)
    return ops.convert_to_numpy(heatmap), ops.convert_to_numpy(pooled_grads), pred_index


def test_grad_cam(tmp_path):
    mpl = pytest.importorskip("matplotlib")
    model = make_model((32, 32, 3), num_classes=5, sizes=(8, 16), entry=8, last=32)
    model.layers[-1].activation = keras.activations.softmax
    img_array = RNG.uniform(0, 255, (1, 32, 32, 3)).astype("float32")
    model.layers[-1].activation = None  # "Remove last layer's softmax"
    preds = model.predict(img_array, verbose=0)
    heatmap, pooled_grads, index = make_gradcam_heatmap(img_array, model, "last_conv_act")
    assert index == int(np.argmax(preds[0])) and heatmap.shape == (4, 4)
    assert heatmap.max() == pytest.approx(1.0) and heatmap.min() >= 0
    # the head is GAP -> Dropout (inactive) -> Dense: d score / d activation = W[:, c] / (H*W)
    kernel = model.layers[-1].kernel.numpy()
    np.testing.assert_allclose(pooled_grads, kernel[:, index] / 16, rtol=1e-5, atol=1e-8)

    img = keras.utils.img_to_array(keras.utils.array_to_img(img_array[0]))
    heatmap = np.uint8(255 * heatmap)
    jet_colors = mpl.colormaps["jet"](np.arange(256))[:, :3]
    jet_heatmap = keras.utils.array_to_img(jet_colors[heatmap])
    jet_heatmap = jet_heatmap.resize((img.shape[1], img.shape[0]))
    jet_heatmap = keras.utils.img_to_array(jet_heatmap)
    superimposed_img = keras.utils.array_to_img(jet_heatmap * 0.4 + img)
    superimposed_img.save(tmp_path / "cam.jpg")
    assert keras.utils.load_img(tmp_path / "cam.jpg").size == (32, 32)


# ---- visualizing what convnets learn --------------------------------------------------------
def test_visualizing_what_convnets_learn(tmp_path):
    img_width = img_height = 48
    model = keras.applications.MobileNetV2(weights=None, include_top=False,
                                           input_shape=(img_width, img_height, 3))  # fmt: skip
    layer = model.get_layer(name="block_3_expand_relu")
    feature_extractor = keras.Model(inputs=model.inputs, outputs=layer.output)

    def compute_loss(input_image, filter_index):
        activation = feature_extractor(input_image)
        filter_activation = activation[:, 2:-2, 2:-2, filter_index]
        return ops.mean(filter_activation)

    def gradient_ascent_step(img, filter_index, learning_rate):
        img = Tensor(ops.convert_to_numpy(img), requires_grad=True)
        loss = compute_loss(img, filter_index)
        loss.backward()
        grads = ops.normalize(img.grad, axis=None)  # tf.math.l2_normalize
        return float(loss), img.detach() + learning_rate * grads

    img = (keras.random.uniform((1, img_width, img_height, 3), seed=1) - 0.5) * 0.25
    # untrained weights: many filters are dead at the start; take one that responds
    responses = ops.mean(feature_extractor(img)[:, 2:-2, 2:-2, :], axis=(0, 1, 2))
    filter_index = int(ops.argmax(responses))
    losses = []
    for _ in range(4):
        loss, img = gradient_ascent_step(img, filter_index, 10.0)
        losses.append(loss)
    assert losses[-1] > losses[0]

    img = ops.convert_to_numpy(img)[0]
    img -= img.mean()
    img /= img.std() + 1e-5
    img *= 0.15
    img = np.clip(img[5:-5, 5:-5, :] + 0.5, 0, 1)
    img = np.clip(img * 255, 0, 255).astype("uint8")
    keras.utils.save_img(tmp_path / "0.png", img)
    assert keras.utils.img_to_array(keras.utils.load_img(tmp_path / "0.png")).shape == (38, 38, 3)


# ---- super-resolution with a sub-pixel CNN --------------------------------------------------
class DepthToSpace(layers.Layer):
    """The example's layer, written with keras.ops."""

    def __init__(self, block_size):
        super().__init__()
        self.block_size = block_size

    def call(self, input):
        batch, height, width, depth = ops.shape(input)
        depth = depth // (self.block_size**2)
        x = ops.reshape(input, [batch, height, width, self.block_size, self.block_size, depth])
        x = ops.transpose(x, [0, 1, 3, 2, 4, 5])
        return ops.reshape(x, [batch, height * self.block_size, width * self.block_size, depth])


def get_model(upscale_factor=3, channels=1):
    conv_args = {"activation": "relu", "kernel_initializer": "orthogonal", "padding": "same"}
    inputs = keras.Input(shape=(None, None, channels))
    x = layers.Conv2D(16, 5, **conv_args)(inputs)
    x = layers.Conv2D(16, 3, **conv_args)(x)
    x = layers.Conv2D(8, 3, **conv_args)(x)
    x = layers.Conv2D(channels * (upscale_factor**2), 3, **conv_args)(x)
    outputs = DepthToSpace(upscale_factor)(x)
    return keras.Model(inputs, outputs)


def test_depth_to_space_matches_the_layer_and_torch():
    x = RNG.standard_normal((2, 3, 4, 18))
    mine = ops.depth_to_space(x, 3).numpy()
    np.testing.assert_allclose(mine, np.asarray(DepthToSpace(3)(x)))
    first = ops.depth_to_space(x.transpose(0, 3, 1, 2), 3, data_format="channels_first")
    torch_first = torch.nn.functional.pixel_shuffle(torch.tensor(x.transpose(0, 3, 1, 2)), 3)
    np.testing.assert_allclose(first.numpy(), torch_first.numpy())
    np.testing.assert_allclose(ops.space_to_depth(mine, 3).numpy(), x)
    back = ops.space_to_depth(first, 3, data_format="channels_first").numpy()
    np.testing.assert_allclose(back, x.transpose(0, 3, 1, 2))
    t = Tensor(x, requires_grad=True)
    (ops.depth_to_space(t, 3) * mine).sum().backward()  # the adjoint of a permutation
    np.testing.assert_allclose(t.grad, x)
    with pytest.raises(ValueError, match="divisible by block_size"):
        ops.depth_to_space(x[..., :10], 3)


def test_super_resolution_sub_pixel(tmp_path):
    upscale_factor, crop_size = 3, 24
    model = get_model(upscale_factor=upscale_factor, channels=1)
    assert model.output_shape == (None, None, None, 1)
    highres = RNG.uniform(0, 1, (12, crop_size, crop_size, 3)).astype("float32")
    y_channel = ops.image.rgb_to_grayscale(highres)  # stands in for the YUV "y" channel
    lowres = ops.image.resize(y_channel, (8, 8), interpolation="bicubic", antialias=True)
    x_train, y_train = ops.convert_to_numpy(lowres), ops.convert_to_numpy(y_channel)

    class ESPCNCallback(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.history = []

        def on_epoch_begin(self, epoch, logs=None):
            self.psnr = []

        def on_epoch_end(self, epoch, logs=None):
            self.history.append(np.mean(self.psnr))

        def on_test_batch_end(self, batch, logs=None):
            self.psnr.append(10 * math.log10(1 / logs["loss"]))

    checkpoint_filepath = str(tmp_path / "checkpoint.weights.h5")
    espcn = ESPCNCallback()
    callbacks = [
        espcn,
        keras.callbacks.EarlyStopping(monitor="loss", patience=10),
        keras.callbacks.ModelCheckpoint(filepath=checkpoint_filepath, save_weights_only=True,
                                        monitor="loss", mode="min", save_best_only=True),
    ]  # fmt: skip
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.001),
                  loss=keras.losses.MeanSquaredError())  # fmt: skip
    history = model.fit(x_train[:8], y_train[:8], epochs=3, callbacks=callbacks, batch_size=4,
                        validation_data=(x_train[8:], y_train[8:]), verbose=0)  # fmt: skip
    assert len(espcn.history) == 3 and all(np.isfinite(espcn.history))
    last_was_best = int(np.argmin(history.history["loss"])) == 2
    before = model.predict(x_train[:2], verbose=0)
    model.load_weights(checkpoint_filepath)  # the best weights seen
    prediction = model.predict(x_train[:2], verbose=0)
    assert prediction.shape == (2, crop_size, crop_size, 1)
    if last_was_best:  # then the checkpoint holds the final weights
        np.testing.assert_allclose(prediction, before, rtol=1e-6, atol=1e-7)
    upscaled = model.predict(x_train[:1, :5, :6], verbose=0)  # any input size
    assert upscaled.shape == (1, 15, 18, 1)
