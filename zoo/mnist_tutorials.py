"""MNIST tutorial models: a two-layer CNN, and the MLP / conv / conv+pool comparison."""

from cnntui.core.registry import Hyperparameters, Reported, register_model
from cnntui.core.zoo_layers import classifier_head, image_input

_PROTOCOL = {"data": "mnist", "split": "test", "rescale": "none"}
"""The MNIST articles: full training set, test set as validation, raw 0-255 pixels."""
_RAW = (
    "pixel scaling: not stated (the article's data steps are reshape and one-hot labels "
    "only), so raw 0-255 pixels"
)


@register_model(
    "mnist-2conv",
    title="Two Conv2D layers straight into softmax (MNIST)",
    description="Conv2D 64 (3x3, relu) -> Conv2D 32 (3x3, relu) -> Flatten -> Dense softmax. "
    "No pooling: the flattened 24x24x32 map feeds the classifier directly.",
    reference="E. Allibhai, 'Building a Convolutional Neural Network (CNN) in Keras', "
    "Towards Data Science, 2018",
    reported=Reported(
        dataset="MNIST",
        metric="val_accuracy",
        value=0.9757,
        epochs=3,
        figures={"first4_test_accuracy": 1.0},
        note="article: 60,000 training images reshaped to 28x28x1, one-hot labels, the "
        "10,000 test images as validation data; 97.57% validation accuracy after 3 epochs; "
        "the first 4 test images predicted 7, 2, 1, 0, all correct (first4_test_accuracy 1)",
        not_stated=("batch size", "learning rate", "pixel scaling"),
        **_PROTOCOL,
    ),
    input_shape=(28, 28, 1),
    num_classes=10,
    hyperparameters=Hyperparameters(
        optimizer="adam",
        learning_rate=1e-3,
        loss="categorical_crossentropy",
        batch_size=32,
        epochs=3,
    ),
    tags=("tutorial", "mnist", "conv"),
    choices="batch size: not stated, Keras's default 32; learning rate: not stated, Adam's "
    f"default 1e-3; {_RAW}; valid padding (Keras's default: the article gives none).",
)
def mnist_2conv(input_shape, num_classes):
    import keras
    from keras import layers

    inputs = image_input(input_shape)
    x = layers.Conv2D(64, 3, activation="relu", name="conv1")(inputs)
    x = layers.Conv2D(32, 3, activation="relu", name="conv2")(x)
    x = layers.Flatten(name="flatten")(x)
    outputs = classifier_head(x, num_classes)
    return keras.Model(inputs, outputs, name="mnist_2conv")


_COMPARISON = "Keras MNIST tutorial comparing a dense network, convolutions, and pooling"
_COMPARISON_HP = Hyperparameters(
    optimizer="adam",
    learning_rate=1e-3,
    loss="categorical_crossentropy",
    batch_size=128,
    epochs=10,
)


@register_model(
    "mnist-mlp",
    title="Dense baseline: two hidden layers of 32 (MNIST)",
    description="Flatten -> Dense 32 relu -> Dense 32 relu -> Dense softmax. The tutorial's "
    "starting point, beaten by every convolutional entry.",
    reference=_COMPARISON + " (dense baseline)",
    reported=Reported(
        dataset="MNIST",
        metric="val_accuracy",
        value=0.9233,
        epochs=10,
        params=26_506,
        figures={"val_loss": 0.3089},
        note="article: an MLP baseline of 26,506 parameters, Adam, batch 128, 10 epochs, "
        "the test set as validation data: 92.33% (val loss 0.3089)",
        not_stated=("hidden layers", "learning rate", "pixel scaling"),
        **_PROTOCOL,
    ),
    input_shape=(28, 28, 1),
    num_classes=10,
    hyperparameters=_COMPARISON_HP,
    tags=("tutorial", "mnist", "mlp"),
    choices="hidden layers: not stated; two Dense 32 relu, the only stack of equal widths "
    "that gives the article's 26,506 parameters (784*32+32 + 32*32+32 + 32*10+10); "
    f"learning rate: not stated, Adam's default 1e-3; {_RAW}.",
)
def mnist_mlp(input_shape, num_classes):
    import keras
    from keras import layers

    inputs = image_input(input_shape)
    x = layers.Flatten(name="flatten")(inputs)
    x = layers.Dense(32, activation="relu", name="dense1")(x)
    x = layers.Dense(32, activation="relu", name="dense2")(x)
    outputs = classifier_head(x, num_classes)
    return keras.Model(inputs, outputs, name="mnist_mlp")


def _conv_stack(input_shape, num_classes, *, pool: bool, name: str, dense: int = 2):
    import keras
    from keras import layers

    inputs = image_input(input_shape)
    x = layers.Conv2D(64, 3, padding="same", activation="relu", name="conv1")(inputs)
    if pool:
        x = layers.MaxPooling2D(2, name="pool1")(x)
    x = layers.Conv2D(32, 3, padding="same", activation="relu", name="conv2")(x)
    if pool:
        x = layers.MaxPooling2D(2, name="pool2")(x)
    x = layers.Flatten(name="flatten")(x)
    for i in range(1, dense + 1):
        x = layers.Dense(32, activation="relu", name=f"dense{i}")(x)
    outputs = classifier_head(x, num_classes)
    return keras.Model(inputs, outputs, name=name)


@register_model(
    "mnist-conv",
    title="Two same-padded convolutions before the dense layers (MNIST)",
    description="Conv2D 64 -> Conv2D 32 (3x3, same padding, relu) -> Flatten -> Dense 32 -> "
    "Dense 32 -> Dense softmax.",
    reference=_COMPARISON + " (convolutions)",
    reported=Reported(
        dataset="MNIST",
        metric="val_accuracy",
        value=0.9795,
        epochs=10,
        figures={"epoch_seconds": 188},
        note="article: two same-padded Conv2D 64 and 32 (3x3, stride 1), Flatten, Dense 32, "
        "Dense 32, softmax; 97.95% after 10 epochs, 188 s an epoch",
        not_stated=("learning rate", "dense activation", "pixel scaling"),
        **_PROTOCOL,
    ),
    input_shape=(28, 28, 1),
    num_classes=10,
    hyperparameters=_COMPARISON_HP,
    tags=("tutorial", "mnist", "conv"),
    choices="learning rate: not stated, Adam's default 1e-3; dense activation: not stated, "
    f"relu on the hidden Dense 32 layers; {_RAW}.",
)
def mnist_conv(input_shape, num_classes):
    return _conv_stack(input_shape, num_classes, pool=False, name="mnist_conv")


@register_model(
    "mnist-conv-pool",
    title="Convolutions with 2x2 max pooling (MNIST)",
    description="As mnist-conv with MaxPooling2D(2) after each convolution: 12x fewer "
    "parameters and better accuracy.",
    reference=_COMPARISON + " (convolutions + pooling)",
    reported=Reported(
        dataset="MNIST",
        metric="val_accuracy",
        value=0.9838,
        epochs=10,
        params=70_698,
        figures={"val_loss": 0.0621, "epoch_seconds": 35},
        note="article: 2x2 max pooling after each convolution, 70,698 parameters; 98.38% "
        "(val loss 0.0621), 35 s an epoch; it closes by suggesting Dropout/L1/L2 against "
        "overfitting, BatchNormalization for speed, and dropping the two hidden dense layers "
        "(mnist-conv-pool-nodense)",
        not_stated=("learning rate", "dense activation", "pixel scaling"),
        **_PROTOCOL,
    ),
    input_shape=(28, 28, 1),
    num_classes=10,
    hyperparameters=_COMPARISON_HP,
    tags=("tutorial", "mnist", "conv", "pooling"),
    choices="learning rate: not stated, Adam's default 1e-3; dense activation: not stated, "
    f"relu on the hidden Dense 32 layers; {_RAW}.",
)
def mnist_conv_pool(input_shape, num_classes):
    return _conv_stack(input_shape, num_classes, pool=True, name="mnist_conv_pool")


@register_model(
    "mnist-conv-pool-nodense",
    title="Convolutions with pooling straight into softmax (MNIST)",
    description="Conv2D 64 -> MaxPool -> Conv2D 32 -> MaxPool -> Flatten -> Dense softmax: "
    "mnist-conv-pool without its two hidden Dense 32 layers.",
    reference=_COMPARISON + " (its closing suggestion: no hidden dense layers)",
    reported=Reported(
        dataset="MNIST",
        metric="val_accuracy",
        note="article's closing suggestion (drop the two hidden dense layers); no figure reported",
        not_stated=("figures", "learning rate", "pixel scaling"),
        **_PROTOCOL,
    ),
    input_shape=(28, 28, 1),
    num_classes=10,
    hyperparameters=_COMPARISON_HP,
    tags=("tutorial", "mnist", "conv", "pooling"),
    choices="figures: not stated (the article only suggests it): the comparison's batch "
    f"128 and 10 epochs; learning rate: not stated, Adam's default 1e-3; {_RAW}.",
)
def mnist_conv_pool_nodense(input_shape, num_classes):
    return _conv_stack(input_shape, num_classes, pool=True, name="mnist_conv_pool_nodense", dense=0)
