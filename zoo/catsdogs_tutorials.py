"""The cats-vs-dogs tutorial series: from a dense network to two wider convolutions.

The article trains on 94x125 RGB photos (Kaggle's 375x500 over 4; 4,096 training and 1,024
validation images sampled) with Adam and a mean squared error loss on a single sigmoid output
(cat = 1, dog = 0), judging models by accuracy at the best of ten thresholds, by the Pearson
correlation between scores and labels, and by the validation MSE. The MLP's learning rate is
1e-5; the conv models' is only "much smaller". Its fully connected layers are 256 wide until
the last step doubles them to 512 (the 256 is read from that doubling).
"""

from cnntui.core.registry import Hyperparameters, Reported, register_model
from cnntui.core.zoo_layers import classifier_head, image_input

_REFERENCE = "Keras cats-vs-dogs tutorial series (94x125 RGB, Adam, MSE loss)"
_SHAPE = (94, 125, 3)
_NEEDS = (
    "a cats-vs-dogs folder DIR/<cats|dogs>/... (or DIR/{train,val}/<cats|dogs>/...; the "
    "article sampled 4,096 train / 1,024 val from Kaggle's 12,500 + 12,500)"
)
_MLP_LR = 1e-5
_CONV_LR = 1e-6
_FC = 256
_SILENT = ("kernel size", "pool size", "batch size", "pixel scaling")


def _hp(epochs: int, learning_rate: float) -> Hyperparameters:
    return Hyperparameters(
        optimizer="adam",
        learning_rate=learning_rate,
        loss="mean_squared_error",
        batch_size=32,
        epochs=epochs,
    )


def _reported(
    metric: str,
    value: float | None,
    epochs: int | None,
    note: str,
    not_stated: tuple[str, ...],
    **figures: float,
) -> Reported:
    return Reported(
        dataset="cats vs dogs",
        metric=metric,
        value=value,
        epochs=epochs,
        note=note,
        figures=figures,
        needs=_NEEDS,
        positive_class="cat",
        not_stated=not_stated + _SILENT,
    )


_CHOICES = (
    "kernel size and pool size: not stated, 3x3 valid convolutions (relu) and 2x2 max pooling "
    "(same padding); batch size: not stated, Keras's default 32; pixel scaling: not "
    "stated, /255; one sigmoid output for two classes (softmax for more)."
)
_CONV_CHOICES = (
    f"learning rate {_CONV_LR:g}: not stated beyond 'a much smaller learning rate' than the "
    f"MLP's {_MLP_LR:g}, so 10x smaller. " + _CHOICES
)
_EPOCHS_CHOICE = "epochs: not stated, 15 as the step before. "
_WIDTH_CHOICE = "hidden width: not stated, 256: the last step 'doubled' it to 512. "


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
        "article: one hidden dense layer, Adam at 1e-5, 10 epochs: 'converged to random "
        "guessing' (no number printed; 0.5 is chance on its balanced classes)",
        ("hidden width", "figures"),
    ),
    input_shape=_SHAPE,
    num_classes=2,
    hyperparameters=_hp(10, _MLP_LR),
    tags=("tutorial", "catsdogs", "binary", "mlp"),
    choices=f"learning rate {_MLP_LR:g}, the article's. hidden width: not stated, 256 as the "
    "conv models' fully connected layer; figures: not stated as numbers, 'random "
    "guessing' read as best-threshold accuracy 0.5. " + _CHOICES,
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
        "article: one Conv2D of 24 kernels, max pooling, 2 dense layers; after 5 epochs "
        "validation MSE 0.36, Pearson correlation 15.2%, a model of 200+ MB",
        ("learning rate", "hidden width"),
        pearson=0.152,
    ),
    input_shape=_SHAPE,
    num_classes=2,
    hyperparameters=_hp(5, _CONV_LR),
    tags=("tutorial", "catsdogs", "binary", "conv"),
    choices=_WIDTH_CHOICE + _CONV_CHOICES,
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
        "article: two Conv2D of 48 kernels each (+ pooling), 15 epochs (half an hour); "
        "Pearson 0.21, validation MSE 0.33, best accuracy over 10 thresholds 61%",
        ("learning rate", "hidden width"),
        pearson=0.21,
        val_mse=0.33,
    ),
    input_shape=_SHAPE,
    num_classes=2,
    hyperparameters=_hp(15, _CONV_LR),
    tags=("tutorial", "catsdogs", "binary", "conv"),
    choices=_WIDTH_CHOICE + _CONV_CHOICES,
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
        None,
        "article: two Conv2D of 128 each; Pearson 30%, best accuracy 67%",
        ("learning rate", "hidden width", "epochs"),
        pearson=0.30,
    ),
    input_shape=_SHAPE,
    num_classes=2,
    hyperparameters=_hp(15, _CONV_LR),
    tags=("tutorial", "catsdogs", "binary", "conv"),
    choices=_EPOCHS_CHOICE + _WIDTH_CHOICE + _CONV_CHOICES,
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
        None,
        "article: first conv 64, second 128, dense layers doubled to 512; validation loss "
        "0.75 (as printed: worse than the 0.25 of a constant 0.5, so likely a misprint, kept "
        "as printed), Pearson 42%, accuracy 75%; convergence took about an hour",
        ("learning rate", "epochs"),
        pearson=0.42,
        val_mse=0.75,
    ),
    input_shape=_SHAPE,
    num_classes=2,
    hyperparameters=_hp(15, _CONV_LR),
    tags=("tutorial", "catsdogs", "binary", "conv"),
    choices=_EPOCHS_CHOICE + _CONV_CHOICES,
)
def catsdogs_conv2_fc512(input_shape, num_classes):
    return _conv_net(input_shape, num_classes, (64, 128), (2 * _FC,), "catsdogs_conv2_fc512")
