"""The cats-vs-dogs tutorial series: from a dense network to two wider convolutions.

The article trains on 94x125 RGB photos with Adam and a mean squared error loss on a single
sigmoid output (cat = 1, dog = 0), judging models by accuracy at the best of ten thresholds,
by the Pearson correlation between scores and labels, and by the validation MSE. Its hidden
fully connected layers have 256 units until the last step doubles them to 512.
"""

from cnntui.core.registry import Hyperparameters, Reported, register_model
from cnntui.core.zoo_layers import classifier_head, image_input

_REFERENCE = "Keras cats-vs-dogs tutorial series (94x125 RGB, Adam, MSE loss)"
_SHAPE = (94, 125, 3)
_NEEDS = "a cats-vs-dogs folder DIR/<cats|dogs>/... (or DIR/{train,val}/<cats|dogs>/...)"
_MLP_LR = 1e-3
_CONV_LR = 1e-5
_FC = 256


def _hp(epochs: int, learning_rate: float) -> Hyperparameters:
    return Hyperparameters(
        optimizer="adam",
        learning_rate=learning_rate,
        loss="mean_squared_error",
        batch_size=32,
        epochs=epochs,
    )


def _reported(metric: str, value: float | None, epochs: int, note: str, **figures: float):
    return Reported(
        dataset="cats vs dogs",
        metric=metric,
        value=value,
        epochs=epochs,
        note=note,
        figures=figures,
        needs=_NEEDS,
        positive_class="cat",
    )


_CHOICES = (
    "one sigmoid output for two classes (softmax for more); relu hidden layers; "
    "3x3 kernels and 2x2 max pooling; batch 32 (Keras default)."
)
_CONV_CHOICES = (
    f"learning rate {_CONV_LR:g}: the article's 'much smaller' rate for the conv models "
    f"(100x the MLP's Adam default {_MLP_LR:g}). " + _CHOICES
)


def _conv_net(input_shape, num_classes, convs, dense, name):
    import keras
    from keras import layers

    inputs = image_input(input_shape)
    x = inputs
    for i, filters in enumerate(convs, start=1):
        x = layers.Conv2D(filters, 3, activation="relu", name=f"conv{i}")(x)
        x = layers.MaxPooling2D(2, padding="same", name=f"pool{i}")(x)
    x = layers.Flatten(name="flatten")(x)
    for i, units in enumerate(dense, start=1):
        x = layers.Dense(units, activation="relu", name=f"dense{i}")(x)
    outputs = classifier_head(x, num_classes, binary=True)
    return keras.Model(inputs, outputs, name=name)


@register_model(
    "catsdogs-mlp",
    title="One hidden Dense 256 on raw pixels (cats vs dogs)",
    description="Flatten -> Dense 256 relu -> Dense sigmoid. The article's first attempt: "
    "a dense network on raw pixels does no better than chance.",
    reference=_REFERENCE + " (dense baseline)",
    reported=_reported(
        "best_threshold_accuracy",
        0.5,
        10,
        "article: dense network, 10 epochs, no better than chance",
    ),
    input_shape=_SHAPE,
    num_classes=2,
    hyperparameters=_hp(10, _MLP_LR),
    tags=("tutorial", "catsdogs", "binary", "mlp"),
    choices=f"learning rate {_MLP_LR:g} (Adam's default). " + _CHOICES,
)
def catsdogs_mlp(input_shape, num_classes):
    return _conv_net(input_shape, num_classes, (), (_FC,), "catsdogs_mlp")


@register_model(
    "catsdogs-conv1",
    title="One Conv2D of 24 kernels + pooling, Dense 256 (cats vs dogs)",
    description="Conv2D 24 (3x3, relu) -> MaxPooling2D -> Flatten -> Dense 256 relu -> "
    "Dense sigmoid (17.5M parameters: the article's '200+ MB' with Adam's two moments).",
    reference=_REFERENCE + " (one convolution)",
    reported=_reported(
        "val_mse",
        0.36,
        5,
        "article: one convolution, 5 epochs, a much smaller learning rate; validation MSE "
        "0.36, Pearson r 0.152, a model file of 200+ MB",
        pearson=0.152,
    ),
    input_shape=_SHAPE,
    num_classes=2,
    hyperparameters=_hp(5, _CONV_LR),
    tags=("tutorial", "catsdogs", "binary", "conv"),
    choices=_CONV_CHOICES,
)
def catsdogs_conv1(input_shape, num_classes):
    return _conv_net(input_shape, num_classes, (24,), (_FC,), "catsdogs_conv1")


@register_model(
    "catsdogs-conv2-48",
    title="Two Conv2D 48 with pooling, Dense 256 (cats vs dogs)",
    description="Conv2D 48 -> MaxPool -> Conv2D 48 -> MaxPool -> Flatten -> Dense 256 relu "
    "-> Dense sigmoid.",
    reference=_REFERENCE + " (two convolutions, 48 kernels)",
    reported=_reported(
        "best_threshold_accuracy",
        0.61,
        15,
        "article: two convolutions of 48, epochs cut from 48 to 15; accuracy 0.61, Pearson r "
        "0.21; the validation MSE 0.33 is recorded here, at the first two-convolution step "
        "(the issue's reading lists it without naming its model)",
        pearson=0.21,
        val_mse=0.33,
    ),
    input_shape=_SHAPE,
    num_classes=2,
    hyperparameters=_hp(15, _CONV_LR),
    tags=("tutorial", "catsdogs", "binary", "conv"),
    choices=_CONV_CHOICES,
)
def catsdogs_conv2_48(input_shape, num_classes):
    return _conv_net(input_shape, num_classes, (48, 48), (_FC,), "catsdogs_conv2_48")


@register_model(
    "catsdogs-conv2-128",
    title="Two Conv2D 128 with pooling, Dense 256 (cats vs dogs)",
    description="Conv2D 128 -> MaxPool -> Conv2D 128 -> MaxPool -> Flatten -> Dense 256 relu "
    "-> Dense sigmoid.",
    reference=_REFERENCE + " (two convolutions, 128 kernels)",
    reported=_reported(
        "best_threshold_accuracy",
        0.67,
        15,
        "article: two convolutions of 128, 15 epochs; accuracy 0.67, Pearson r 0.30",
        pearson=0.30,
    ),
    input_shape=_SHAPE,
    num_classes=2,
    hyperparameters=_hp(15, _CONV_LR),
    tags=("tutorial", "catsdogs", "binary", "conv"),
    choices=_CONV_CHOICES,
)
def catsdogs_conv2_128(input_shape, num_classes):
    return _conv_net(input_shape, num_classes, (128, 128), (_FC,), "catsdogs_conv2_128")


@register_model(
    "catsdogs-conv2-fc512",
    title="Conv2D 64 -> Conv2D 128 with pooling, Dense 512 (cats vs dogs)",
    description="Conv2D 64 -> MaxPool -> Conv2D 128 -> MaxPool -> Flatten -> Dense 512 relu "
    "-> Dense sigmoid: the fully connected layer doubled to 512. The article's best.",
    reference=_REFERENCE + " (wider head)",
    reported=_reported(
        "best_threshold_accuracy",
        0.75,
        15,
        "article: 'the fully connected layers' size doubled to 512', 15 epochs; accuracy "
        "0.75, Pearson r 0.42",
        pearson=0.42,
    ),
    input_shape=_SHAPE,
    num_classes=2,
    hyperparameters=_hp(15, _CONV_LR),
    tags=("tutorial", "catsdogs", "binary", "conv"),
    choices=_CONV_CHOICES,
)
def catsdogs_conv2_fc512(input_shape, num_classes):
    return _conv_net(input_shape, num_classes, (64, 128), (2 * _FC,), "catsdogs_conv2_fc512")
