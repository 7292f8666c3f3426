"""The cats-vs-dogs tutorial series: from a dense network to two wider convolutions.

The article trains on 94x125 RGB photos with Adam at a learning rate of 1e-5 and a mean
squared error loss on a single sigmoid output, judging models by accuracy and by the
Pearson correlation between scores and labels.
"""

from cnntui.core.registry import Hyperparameters, Reported, register_model
from cnntui.core.zoo_layers import classifier_head, image_input

_REFERENCE = "Keras cats-vs-dogs tutorial series (94x125 RGB, Adam lr 1e-5, MSE loss)"
_SHAPE = (94, 125, 3)
_HP = Hyperparameters(
    optimizer="adam", learning_rate=1e-5, loss="mean_squared_error", batch_size=32, epochs=20
)
_CHOICES = (
    "one sigmoid output for two classes (softmax for more); relu hidden layers; "
    "3x3 kernels and 2x2 max pooling; batch 32, 20 epochs where the article is silent."
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
    title="One hidden Dense layer on raw pixels (cats vs dogs)",
    description="Flatten -> Dense 128 relu -> Dense sigmoid. The article's first attempt: "
    "a dense network on raw pixels does no better than chance.",
    reference=_REFERENCE + " (dense baseline)",
    reported=Reported(
        dataset="cats vs dogs", metric="val_accuracy", value=0.5, note="random guessing"
    ),
    input_shape=_SHAPE,
    num_classes=2,
    hyperparameters=_HP,
    tags=("tutorial", "catsdogs", "binary", "mlp"),
    choices="hidden layer of 128 units. " + _CHOICES,
)
def catsdogs_mlp(input_shape, num_classes):
    return _conv_net(input_shape, num_classes, (), (128,), "catsdogs_mlp")


@register_model(
    "catsdogs-conv1",
    title="One Conv2D of 24 kernels + pooling, two Dense layers (cats vs dogs)",
    description="Conv2D 24 (3x3, relu) -> MaxPooling2D -> Flatten -> Dense 32 relu -> "
    "Dense sigmoid.",
    reference=_REFERENCE + " (one convolution)",
    reported=Reported(dataset="cats vs dogs", metric="val_mse", value=0.36),
    input_shape=_SHAPE,
    num_classes=2,
    hyperparameters=_HP,
    tags=("tutorial", "catsdogs", "binary", "conv"),
    choices="first Dense layer of 32 units. " + _CHOICES,
)
def catsdogs_conv1(input_shape, num_classes):
    return _conv_net(input_shape, num_classes, (24,), (32,), "catsdogs_conv1")


@register_model(
    "catsdogs-conv2-48",
    title="Two Conv2D 48 with pooling (cats vs dogs)",
    description="Conv2D 48 -> MaxPool -> Conv2D 48 -> MaxPool -> Flatten -> Dense 64 relu -> "
    "Dense sigmoid.",
    reference=_REFERENCE + " (two convolutions, 48 kernels)",
    reported=Reported(dataset="cats vs dogs", metric="val_accuracy", value=0.61),
    input_shape=_SHAPE,
    num_classes=2,
    hyperparameters=_HP,
    tags=("tutorial", "catsdogs", "binary", "conv"),
    choices="Dense 64 before the output. " + _CHOICES,
)
def catsdogs_conv2_48(input_shape, num_classes):
    return _conv_net(input_shape, num_classes, (48, 48), (64,), "catsdogs_conv2_48")


@register_model(
    "catsdogs-conv2-128",
    title="Two Conv2D 128 with pooling (cats vs dogs)",
    description="Conv2D 128 -> MaxPool -> Conv2D 128 -> MaxPool -> Flatten -> Dense 64 relu "
    "-> Dense sigmoid.",
    reference=_REFERENCE + " (two convolutions, 128 kernels)",
    reported=Reported(dataset="cats vs dogs", metric="val_accuracy", value=0.67),
    input_shape=_SHAPE,
    num_classes=2,
    hyperparameters=_HP,
    tags=("tutorial", "catsdogs", "binary", "conv"),
    choices="Dense 64 before the output. " + _CHOICES,
)
def catsdogs_conv2_128(input_shape, num_classes):
    return _conv_net(input_shape, num_classes, (128, 128), (64,), "catsdogs_conv2_128")


@register_model(
    "catsdogs-conv2-fc512",
    title="Conv2D 64 -> Conv2D 128 with pooling, Dense 512 (cats vs dogs)",
    description="Conv2D 64 -> MaxPool -> Conv2D 128 -> MaxPool -> Flatten -> Dense 512 relu "
    "-> Dense 512 relu -> Dense sigmoid. The article's best.",
    reference=_REFERENCE + " (wider head)",
    reported=Reported(dataset="cats vs dogs", metric="val_accuracy", value=0.75),
    input_shape=_SHAPE,
    num_classes=2,
    hyperparameters=_HP,
    tags=("tutorial", "catsdogs", "binary", "conv"),
    choices="two Dense 512 layers. " + _CHOICES,
)
def catsdogs_conv2_fc512(input_shape, num_classes):
    return _conv_net(input_shape, num_classes, (64, 128), (512, 512), "catsdogs_conv2_fc512")
