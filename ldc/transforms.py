"""Analysis (encoder) and synthesis (decoder) transforms (chapter 2).

The convolutional pair is the seeds' model: two strided 5x5 convolutions and
two dense layers down to a ``latent_dims`` vector (50 by default), and the
mirror image back up to a 28x28 digit, with Leaky ReLU throughout. The MLP
pair replaces the convolutions by one wide dense layer, for comparison.
Images enter as float32 (batch, 28, 28, 1) in [0, 1]; latents are float32
(batch, latent_dims).
"""
from ldc._tf import tf
from ldc.errors import InputError

ARCHITECTURES = ("conv", "mlp")
IMAGE_SHAPE = (28, 28, 1)
_layers = tf.keras.layers


def _check_latent_dims(latent_dims):
    if isinstance(latent_dims, bool) or not isinstance(latent_dims, int) or latent_dims < 1:
        raise InputError(f"latent_dims={latent_dims!r}: expected a positive int")


def make_analysis_transform(latent_dims=50):
    """Return the convolutional encoder: (batch, 28, 28, 1) in [0, 1] -> (batch, latent_dims) latents."""
    _check_latent_dims(latent_dims)
    return tf.keras.Sequential([
        tf.keras.Input(IMAGE_SHAPE),
        _layers.Conv2D(20, 5, strides=2, padding="same", activation="leaky_relu", name="conv_1"),
        _layers.Conv2D(50, 5, strides=2, padding="same", activation="leaky_relu", name="conv_2"),
        _layers.Flatten(name="flatten"),
        _layers.Dense(500, activation="leaky_relu", name="fc_1"),
        _layers.Dense(latent_dims, activation=None, name="fc_2"),
    ], name="analysis_transform")


def make_synthesis_transform(latent_dims=50):
    """Return the convolutional decoder: (batch, latent_dims) -> (batch, 28, 28, 1), about [0, 1]."""
    _check_latent_dims(latent_dims)
    return tf.keras.Sequential([
        tf.keras.Input((latent_dims,)),
        _layers.Dense(500, activation="leaky_relu", name="fc_1"),
        _layers.Dense(2450, activation="leaky_relu", name="fc_2"),
        _layers.Reshape((7, 7, 50), name="reshape"),
        _layers.Conv2DTranspose(20, 5, strides=2, padding="same", activation="leaky_relu", name="conv_1"),
        _layers.Conv2DTranspose(1, 5, strides=2, padding="same", activation="leaky_relu", name="conv_2"),
    ], name="synthesis_transform")


def make_mlp_analysis_transform(latent_dims=50, hidden=500):
    """Return a dense-only encoder: (batch, 28, 28, 1) -> flatten -> ``hidden`` -> (batch, latent_dims)."""
    _check_latent_dims(latent_dims)
    return tf.keras.Sequential([
        tf.keras.Input(IMAGE_SHAPE),
        _layers.Flatten(name="flatten"),
        _layers.Dense(hidden, activation="leaky_relu", name="fc_1"),
        _layers.Dense(latent_dims, activation=None, name="fc_2"),
    ], name="mlp_analysis_transform")


def make_mlp_synthesis_transform(latent_dims=50, hidden=500):
    """Return a dense-only decoder: (batch, latent_dims) -> ``hidden`` -> 784 -> (batch, 28, 28, 1)."""
    _check_latent_dims(latent_dims)
    return tf.keras.Sequential([
        tf.keras.Input((latent_dims,)),
        _layers.Dense(hidden, activation="leaky_relu", name="fc_1"),
        _layers.Dense(28 * 28, activation="leaky_relu", name="fc_2"),
        _layers.Reshape(IMAGE_SHAPE, name="reshape"),
    ], name="mlp_synthesis_transform")


def make_transforms(architecture="conv", latent_dims=50):
    """Return ``(analysis, synthesis)`` for ``architecture`` "conv" (the seeds' model) or "mlp"."""
    if architecture == "conv":
        return make_analysis_transform(latent_dims), make_synthesis_transform(latent_dims)
    if architecture == "mlp":
        return make_mlp_analysis_transform(latent_dims), make_mlp_synthesis_transform(latent_dims)
    raise InputError(f"architecture={architecture!r}: expected one of {ARCHITECTURES}")


def count_parameters(model):
    """Return the number of trainable scalars in a Keras model or layer (an int)."""
    return int(sum(int(tf.size(w)) for w in model.trainable_weights))
