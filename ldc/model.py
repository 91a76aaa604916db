"""The compression model: analysis transform, prior and synthesis transform, and its weights by name (chapters 2-4)."""
from ldc._tf import tf
from ldc.entropy import LogisticPrior
from ldc.errors import InputError
from ldc.transforms import make_transforms


def to_unit_images(digits):
    """Return float32 (batch, 28, 28, 1) in [0, 1] from uint8 digits (batch, 28, 28) or (batch, 28, 28, 1)."""
    digits = tf.convert_to_tensor(digits)
    if digits.dtype != tf.uint8:
        raise InputError(f"digits: expected uint8 pixels 0..255, got {digits.dtype.name}")
    return tf.reshape(tf.cast(digits, tf.float32) / 255.0, (-1, 28, 28, 1))


class CompressionModel(tf.keras.Model):
    """Encoder, noisy logistic prior and decoder, as trained on the rate-distortion Lagrangian.

    Calling it on uint8 digits (batch, 28, 28[, 1]) returns a dict of per-digit
    tensors: ``rate`` (bits per digit), ``distortion`` (mean absolute pixel
    error in [0, 1] units), ``latents`` (float32 (batch, latent_dims)) and
    ``reconstruction`` (float32 (batch, 28, 28, 1), not clipped); ``targets``
    (uint8 digits of the same shape, e.g. the clean digits of noisy inputs)
    are what the distortion compares with, the digits themselves if None. With
    ``training=True`` the latents carry uniform noise and ``rate`` is their
    differentiable cost (not a proven bound on the rounded rate); with
    ``training=False`` they are rounded and ``rate`` is their exact
    information content.
    """

    def __init__(self, latent_dims=50, architecture="conv", **kwargs):
        kwargs.setdefault("name", "compression_model")
        super().__init__(**kwargs)
        self.latent_dims = latent_dims
        self.architecture = architecture
        self.analysis_transform, self.synthesis_transform = make_transforms(architecture, latent_dims)
        self.prior = LogisticPrior(latent_dims)

    def call(self, digits, training=False, targets=None):
        images = to_unit_images(digits)
        latents = self.analysis_transform(images)
        latents_hat, bits = self.prior(latents, training=training)
        reconstruction = self.synthesis_transform(latents_hat)
        wanted = images if targets is None else to_unit_images(targets)
        distortion = tf.reduce_mean(tf.abs(wanted - reconstruction), axis=(1, 2, 3))
        return {"rate": bits, "distortion": distortion, "latents": latents, "reconstruction": reconstruction}

    def get_config(self):
        return {"latent_dims": self.latent_dims, "architecture": self.architecture}


def lagrangian(rate, distortion, lmbda):
    """Return the training loss ``mean(rate) + lmbda * mean(distortion)`` (bits per digit + lmbda x MAE)."""
    return tf.reduce_mean(rate) + lmbda * tf.reduce_mean(distortion)


def weight_variables(model):
    """Return a :class:`CompressionModel`'s variables by stable name, e.g. ``analysis_transform/conv_1/kernel``.

    The names come from the model's structure (transform, layer, variable),
    not from Keras's weight order or variable names, which differ between
    Keras 2 and Keras 3, so weights saved on one load on the other.
    """
    variables = {}
    for transform in (model.analysis_transform, model.synthesis_transform):
        for layer in transform.layers:
            for variable in layer.weights:
                # Keras 2 names a kernel "conv_1/kernel:0", Keras 3 "kernel": keep the last part, without ":0".
                short = variable.name.split("/")[-1].split(":")[0]
                variables[f"{transform.name}/{layer.name}/{short}"] = variable
    variables["prior/log_scales"] = model.prior.log_scales
    return variables


def named_weights(model):
    """Return the model's weights as ``{stable name: ndarray}`` (see :func:`weight_variables`)."""
    return {name: variable.numpy() for name, variable in weight_variables(model).items()}


def set_named_weights(model, arrays):
    """Assign weights stored by :func:`named_weights`; ValueError if a name is missing or extra, or a shape differs."""
    targets = weight_variables(model)
    if set(arrays) != set(targets):
        missing, extra = sorted(set(targets) - set(arrays)), sorted(set(arrays) - set(targets))
        raise InputError(f"stored weights do not fit the model: missing {missing[:3]}, unexpected {extra[:3]}")
    for name, variable in targets.items():
        if tuple(arrays[name].shape) != tuple(variable.shape):
            raise InputError(f"stored weight {name} has shape {tuple(arrays[name].shape)}, "
                             f"the model's {tuple(variable.shape)}")
    for name, variable in targets.items():
        variable.assign(arrays[name])
