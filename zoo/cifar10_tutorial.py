"""The CIFAR-10 tutorial model: two max-norm constrained convolutions and a wide Dense layer."""

from cnntui.core.registry import Hyperparameters, Reported, register_model
from cnntui.core.zoo_layers import classifier_head, image_input


@register_model(
    "cifar10-maxnorm",
    title="Two max-norm Conv2D 32 + Dense 500 (CIFAR-10)",
    description="Conv2D 32 (3x3, same, relu, max-norm 3) -> Conv2D 32 (same, relu, max-norm 3) "
    "-> Flatten -> Dense 500 (relu, max-norm 3) -> Dense softmax: the article's five layers, "
    "no Dropout. With no pooling, the 32x32x32 map makes the Dense layer hold 99.9% of the "
    "16.4M parameters.",
    reference="Keras CIFAR-10 object-recognition tutorial (max-norm constrained CNN)",
    reported=Reported(
        dataset="CIFAR-10",
        metric="val_accuracy",
        value=0.662,
        epochs=10,
        params=16_399_654,
        figures={"train_accuracy": 0.796, "precision_class0": 0.24},
        note="article: 50,000 training images, the 10,000 test images as validation data; "
        "5 layers (conv, conv, flatten, dense 500, dense 10), 16,399,654 parameters, no "
        "Dropout; Adam, 10 epochs, ModelCheckpoint on val_loss (min); training accuracy "
        "0.796, validation accuracy 0.662; imbalanced-learn's per-class report, class 0 "
        "(airplane) precision 0.24 the worst; a ROC curve with an AUC (no number printed)",
        not_stated=("batch size", "learning rate", "pixel scaling"),
        data="cifar10",
        split="test",
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
    tags=("tutorial", "cifar10", "conv", "maxnorm"),
    choices="batch size: not stated, Keras's default 32; learning rate: not stated, Adam's "
    "default 1e-3; pixel scaling: not stated, /255 to [0, 1]. `cnntui reproduce` reads the "
    "figures at the last epoch (the article's ModelCheckpoint kept the lowest val_loss).",
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
    outputs = classifier_head(x, num_classes)
    return keras.Model(inputs, outputs, name="cifar10_maxnorm")
