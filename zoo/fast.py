"""Entries built for time-to-accuracy: the most accuracy per second of training.

Three families, all trained by default with cnntui's modern recipe (one-cycle learning rate
with warm-up, label smoothing, weight averaging):

- ``fast-resnet``: the airbench / ResNet-9 (DAWNBench) design — BatchNorm everywhere, a
  few wide stages, each opened by a convolution and a 2x2 max pool (cheaper than strided
  convolutions and better at low resolution), residual pairs, global max pooling and a
  down-scaled output layer so a high learning rate does not saturate the softmax.
- ``fast-mobilenet``: MobileNetV2 / EfficientNet inverted residuals — 1x1 expansion,
  3x3 depthwise, linear 1x1 projection, identity shortcuts and optional squeeze-excitation:
  few multiply-adds per image, so it shines where arithmetic is the bottleneck (a CPU).
- ``fast-cnn``: the least a convolutional net can be — two strided convolutions, no
  normalization, a dense softmax on the flattened map: the smallest graph to trace and the
  fewest multiply-adds, so on a CPU it reaches a tutorial's accuracy in a fraction of the
  tutorial's time (a short budget's entry; ``fast-resnet`` goes further given minutes).

``width`` and ``depth`` are builder parameters (``cnntui summary fast-resnet --width 64``).
Large inputs are reduced by a strided stem to at most 48 pixels on the short side first, so
the same entry works from 28x28 digits to photos at the cost of a few multiply-adds.
"""

import dataclasses

from cnntui.core.registry import Hyperparameters, Reported, register_model
from cnntui.core.zoo_layers import classifier_head, image_input

_BN_MOMENTUM = 0.9  # fast-settling statistics (airbench uses 0.6 in PyTorch terms)
_MAX_STAGE_INPUT = 48  # short side of the map entering the stages
_REPORTED = Reported(
    dataset="bundled MNIST digits (4,500 train / 500 val)",
    metric="val_accuracy",
    note="built for time-to-accuracy: see bench/bench_accuracy.py and docs/training.md",
)
# The modern recipe with settings measured on the digits (docs/training.md):
# - batch 64 and a 0.3-epoch warm-up: fast-resnet had 97.6% after 2 epochs where batch 128
#   with a one-epoch warm-up had 94.4%, and the same ~99% after 10;
# - no EMA: Keras's EMA averages the weights but not BatchNorm's moving statistics, so
#   the averaged nets validated at 10.6% (fast-resnet) and 10.5% (fast-mobilenet) after
#   epoch 1 (fast-resnet: 78% without), and fast-resnet ended no better (98.6% vs 98.4%).
_FAST_HP = Hyperparameters(
    optimizer="adamw",
    learning_rate=4e-3,
    loss="sparse_categorical_crossentropy",
    batch_size=64,
    epochs=10,
    schedule="onecycle",
    warmup=0.3,
    weight_decay=5e-4,
    label_smoothing=0.1,
    ema=False,
)

# fast-resnet trains 20 epochs: 99.20 % mean over seeds 0-2 in 65 s on the 2-core machine,
# where 10 epochs ended at 98.73 % (bench/bench_accuracy.py; the goal is 98.8 % in 2 min).
_RESNET_HP = dataclasses.replace(_FAST_HP, epochs=20)


def _check(name: str, value: int, low: int = 1) -> None:
    if not isinstance(value, int) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}; got {value!r}")


def _resnet_args(width, depth, max_side, **_) -> None:
    _check("width", width)
    _check("depth", depth, low=0)
    _check("max_side", max_side, low=4)


def _mobilenet_args(width, depth, expansion, se, max_side, **_) -> None:
    _check("width", width)
    _check("depth", depth)
    _check("expansion", expansion)
    _check("max_side", max_side, low=4)
    if not 0.0 <= se <= 1.0:
        raise ValueError(f"se must be between 0 (off) and 1; got {se!r}")


def _cnn_args(width, depth, max_side, **_) -> None:
    _check("width", width)
    _check("depth", depth, low=0)
    _check("max_side", max_side, low=_CNN_MIN_SIDE)


def _stem_strides(input_shape, max_side: int = _MAX_STAGE_INPUT) -> int:
    """How many stride-2 steps bring the short side down to ``max_side`` or less (none for
    an unknown size: cnntui builds at the data's size, asking first with ``None``)."""
    if None in (input_shape[0], input_shape[1]):
        return 0
    side, steps = min(input_shape[0], input_shape[1]), 0
    while side > max_side:
        side, steps = (side + 1) // 2, steps + 1
    return steps


def _conv_bn(x, filters, kernel=3, strides=1, act="relu", name=""):
    from keras import layers

    x = layers.Conv2D(
        filters, kernel, strides=strides, padding="same", use_bias=False, name=f"{name}_conv"
    )(x)
    x = layers.BatchNormalization(momentum=_BN_MOMENTUM, name=f"{name}_bn")(x)
    return layers.Activation(act, name=f"{name}_{act}")(x) if act else x


def _stem(inputs, filters, input_shape, act, max_side):
    x = _conv_bn(inputs, filters, act=act, name="stem")
    for i in range(_stem_strides(input_shape, max_side)):
        x = _conv_bn(x, filters, strides=2, act=act, name=f"stem_down{i + 1}")
    return x


@register_model(
    "fast-resnet",
    title="ResNet-9 / airbench-style net for fast time-to-accuracy",
    description="A Conv-BN-ReLU stem, then three stages (width, 2x, 4x filters), each a "
    "Conv-BN-ReLU followed by 2x2 max pooling and `depth` residual pairs of Conv-BN-ReLU; "
    "global max pooling and a softmax whose inputs are scaled by 1/8. Few, wide layers "
    "keep the hardware busy; pooling instead of strides and the scaled output let it train "
    "at a high learning rate from the first step.",
    reference="D. Page, 'How to train your ResNet' (DAWNBench ResNet-9), 2018; "
    "K. Jordan, 'airbench: 94% on CIFAR-10 in 3.29 seconds', 2024",
    reference_url="https://github.com/KellerJordan/cifar10-airbench",
    reported=_REPORTED,
    input_shape=(28, 28, 1),
    num_classes=10,
    hyperparameters=_RESNET_HP,
    tags=("modern", "fast", "residual", "batchnorm", "conv"),
    recipe="modern",
    check_args=_resnet_args,
)
def fast_resnet(
    input_shape, num_classes, width=16, depth=1, scale=0.125, max_side=_MAX_STAGE_INPUT
):
    """``width``: filters of the first stage (2x, 4x after); ``depth``: residual pairs per
    stage; ``max_side``: the stem halves the input until its short side is at most this."""
    import keras
    from keras import layers

    _resnet_args(width=width, depth=depth, max_side=max_side)
    inputs = image_input(input_shape)
    x = _stem(inputs, max(8, width // 2), input_shape, "relu", max_side)
    for s, filters in enumerate((width, width * 2, width * 4), start=1):
        x = _conv_bn(x, filters, name=f"stage{s}")
        x = layers.MaxPooling2D(2, padding="same", name=f"stage{s}_pool")(x)
        for b in range(1, depth + 1):
            y = _conv_bn(x, filters, name=f"stage{s}_res{b}a")
            y = _conv_bn(y, filters, name=f"stage{s}_res{b}b")
            x = layers.Add(name=f"stage{s}_res{b}_add")([x, y])
    x = layers.GlobalMaxPooling2D(name="gmp")(x)
    x = layers.Rescaling(scale, name="scale")(x)
    outputs = classifier_head(x, num_classes, binary=True)
    return keras.Model(inputs, outputs, name="fast_resnet")


def _inverted_residual(x, filters, strides, expansion, se, name):
    from keras import layers

    c_in = x.shape[-1]
    y = x
    if expansion != 1:
        y = _conv_bn(y, c_in * expansion, kernel=1, act="relu6", name=f"{name}_expand")
    y = layers.DepthwiseConv2D(
        3, strides=strides, padding="same", use_bias=False, name=f"{name}_dw"
    )(y)
    y = layers.BatchNormalization(momentum=_BN_MOMENTUM, name=f"{name}_dw_bn")(y)
    y = layers.Activation("relu6", name=f"{name}_dw_relu6")(y)
    if se:
        squeeze = max(4, int(c_in * se))
        s = layers.GlobalAveragePooling2D(keepdims=True, name=f"{name}_se_pool")(y)
        s = layers.Conv2D(squeeze, 1, activation="relu", name=f"{name}_se_reduce")(s)
        s = layers.Conv2D(y.shape[-1], 1, activation="sigmoid", name=f"{name}_se_expand")(s)
        y = layers.Multiply(name=f"{name}_se")([y, s])
    y = _conv_bn(y, filters, kernel=1, act=None, name=f"{name}_project")
    if strides == 1 and c_in == filters:
        y = layers.Add(name=f"{name}_add")([x, y])
    return y


@register_model(
    "fast-mobilenet",
    title="MobileNetV2 / EfficientNet-style inverted residuals, for CPUs",
    description="A Conv-BN-ReLU6 stem, then three stages (width, 2x, 4x channels; stride 2 "
    "from the second) of `depth` inverted residual blocks: 1x1 expansion, 3x3 depthwise, "
    "optional squeeze-excitation, linear 1x1 projection, identity shortcut. A 1x1 "
    "head convolution, global average pooling and a softmax. Depthwise convolutions cost "
    "a fraction of the multiply-adds of full 3x3 ones, which is what a CPU pays for.",
    reference="Sandler et al., 'MobileNetV2: Inverted Residuals and Linear Bottlenecks', "
    "CVPR 2018; Tan & Le, 'EfficientNet', ICML 2019 (squeeze-excitation)",
    reported=_REPORTED,
    input_shape=(28, 28, 1),
    num_classes=10,
    hyperparameters=_FAST_HP,
    tags=("modern", "fast", "inverted-residual", "depthwise", "batchnorm", "conv", "mobile"),
    recipe="modern",
    check_args=_mobilenet_args,
)
def fast_mobilenet(
    input_shape, num_classes, width=16, depth=2, expansion=4, se=0.0, max_side=_MAX_STAGE_INPUT
):
    """``width``: channels of the first stage (2x, 4x after); ``depth``: blocks per stage;
    ``expansion``: inverted-residual expansion ratio; ``se``: squeeze ratio (0 = off);
    ``max_side``: the stem halves the input until its short side is at most this."""
    import keras
    from keras import layers

    _mobilenet_args(width=width, depth=depth, expansion=expansion, se=se, max_side=max_side)
    inputs = image_input(input_shape)
    x = _stem(inputs, max(8, width // 2), input_shape, "relu6", max_side)
    for s, filters in enumerate((width, width * 2, width * 4), start=1):
        for b in range(1, depth + 1):
            strides = 2 if (s > 1 and b == 1) else 1
            x = _inverted_residual(x, filters, strides, expansion, se, name=f"stage{s}_block{b}")
    x = _conv_bn(x, width * 8, kernel=1, act="relu6", name="head")
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    x = layers.Dropout(0.1, name="drop")(x)
    outputs = classifier_head(x, num_classes, binary=True)
    return keras.Model(inputs, outputs, name="fast_mobilenet")


# fast-cnn: measured on the digits (docs/training.md): batch 64 at a peak of 1.5e-2 reached
# 96.4-97.0 % in two epochs over seeds 0-2; no EMA, which lags behind in runs that short.
_CNN_HP = dataclasses.replace(_FAST_HP, learning_rate=1.5e-2, epochs=8)
_CNN_MIN_SIDE = 9  # the two valid strided convolutions need 9 pixels


@register_model(
    "fast-cnn",
    title="Two strided convolutions: the shortest time to a tutorial's accuracy",
    description="Conv 5x5/2 (width) and Conv 3x3/2 (2x width), ReLU, no normalization, "
    "`depth` more 3x3 convolutions, then a softmax on the flattened map. Large inputs are "
    "halved by 3x3/2 convolutions until the short side is at most `max_side`. Little to "
    "trace and few multiply-adds: on the digits it passes the MNIST tutorial's accuracy "
    "in two epochs, a quarter of the tutorial's time.",
    reference="the strided all-convolutional design of Springenberg et al., 'Striving for "
    "Simplicity: The All Convolutional Net', ICLR 2015 workshop; trained with the "
    "one-cycle schedule of L. Smith and N. Topin, 'Super-Convergence', 2017",
    reported=_REPORTED,
    input_shape=(28, 28, 1),
    num_classes=10,
    hyperparameters=_CNN_HP,
    tags=("modern", "fast", "conv", "cpu"),
    recipe="modern",
    check_args=_cnn_args,
)
def fast_cnn(input_shape, num_classes, width=32, depth=0, max_side=32):
    """``width``: filters of the first convolution (2x in the second); ``depth``: extra 3x3
    convolutions after them; ``max_side``: 3x3/2 convolutions halve the input until its
    short side is at most this. Any size of at least 9x9 pixels: a folder of photos trains
    at a size chosen from its images, as for the other fast entries."""
    import keras
    from keras import layers

    _cnn_args(width=width, depth=depth, max_side=max_side)
    known = None not in (input_shape[0], input_shape[1])
    if known and min(input_shape[0], input_shape[1]) < _CNN_MIN_SIDE:
        raise ValueError(
            f"fast-cnn needs images of at least {_CNN_MIN_SIDE}x{_CNN_MIN_SIDE} pixels; "
            f"got {input_shape[0]}x{input_shape[1]} (pass a larger --input-shape)"
        )
    inputs = image_input(input_shape)
    x = inputs
    for i in range(_stem_strides(input_shape, max_side)):
        x = layers.Conv2D(
            max(8, width // 2), 3, strides=2, padding="same", activation="relu",
            name=f"stem_down{i + 1}_conv",
        )(x)  # fmt: skip
    x = layers.Conv2D(width, 5, strides=2, activation="relu", name="conv1")(x)
    x = layers.Conv2D(width * 2, 3, strides=2, activation="relu", name="conv2")(x)
    for d in range(1, depth + 1):
        x = layers.Conv2D(width * 2, 3, padding="same", activation="relu", name=f"conv{d + 2}")(x)
    # the map's size is known for any real input; only a model asked for unknown sizes
    # (how cnntui asks whether a builder takes any size) pools instead of flattening
    x = layers.Flatten(name="flatten")(x) if known else layers.GlobalMaxPooling2D(name="gmp")(x)
    outputs = classifier_head(x, num_classes, binary=True)
    return keras.Model(inputs, outputs, name="fast_cnn")
