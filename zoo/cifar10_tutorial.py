"""The CIFAR-10 tutorial model: two max-norm constrained convolutions and a wide Dense layer."""

from cnntui.core.registry import Hyperparameters, Reported, register_model
from cnntui.core.zoo_layers import classifier_head, image_input


@register_model(
    "cifar10-maxnorm",
    title="Two max-norm Conv2D 32 + Dense 500 (CIFAR-10)",
    description="Conv2D 32 (3x3, same, relu, max-norm 3) -> Dropout 0.2 -> Conv2D 32 (same, "
    "relu, max-norm 3) -> Flatten -> Dense 500 (relu, max-norm 3) -> Dropout 0.5 -> Dense "
    "softmax. With no pooling, the 32x32x32 map makes the Dense layer hold 99.9% of the "
    "16.4M parameters.",
    reference="Keras CIFAR-10 object-recognition tutorial (max-norm constrained CNN)",
    reported=Reported(
        dataset="CIFAR-10", metric="val_accuracy", value=0.662, epochs=10, params=16_399_654
    ),
    input_shape=(32, 32, 3),
    num_classes=10,
    hyperparameters=Hyperparameters(
        optimizer="adam",
        learning_rate=1e-3,
        loss="categorical_crossentropy",
        batch_size=32,
        epochs=10,
    ),
    tags=("tutorial", "cifar10", "conv", "maxnorm", "dropout"),
    choices="Dropout 0.2 after the first convolution and 0.5 before the classifier, as in the "
    "max-norm tutorials; batch 32.",
)
def cifar10_maxnorm(input_shape, num_classes):
    import keras
    from keras import constraints, layers

    inputs = image_input(input_shape)
    x = layers.Conv2D(
        32,
        3,
        padding="same",
        activation="relu",
        kernel_constraint=constraints.MaxNorm(3),
        name="conv1",
    )(inputs)
    x = layers.Dropout(0.2, name="drop1")(x)
    x = layers.Conv2D(
        32,
        3,
        padding="same",
        activation="relu",
        kernel_constraint=constraints.MaxNorm(3),
        name="conv2",
    )(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(
        500, activation="relu", kernel_constraint=constraints.MaxNorm(3), name="dense1"
    )(x)
    x = layers.Dropout(0.5, name="drop2")(x)
    outputs = classifier_head(x, num_classes)
    return keras.Model(inputs, outputs, name="cifar10_maxnorm")
