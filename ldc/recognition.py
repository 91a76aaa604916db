"""A digit classifier, trained once on the clean training digits and cached (chapter 7).

It answers one question about a decoded digit: can it still be recognised?
A small convolutional network (two 3x3 convolutions with max pooling, a
dense layer of 128 and one to the ten classes, 225,034 parameters), trained with Adam on
the cross-entropy of the labels. Its configuration keys the model cache like
a codec's, and :func:`ldc.load_or_train` gets it as it gets a codec (cache,
published release, or trained now), so ``make book`` trains it with the
others and the published release carries it.
"""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field

import numpy as np

from ldc._tf import tf
from ldc.data import as_digits, load_mnist, shuffled_batches
from ldc.errors import InputError, shown
from ldc.modes import mode_name, quick_mode
from ldc.training import _number_in, _positive_int_or_none, cap_for_quick_mode

KIND = "classifier"
RECIPE_VERSION = 2  # 2: a hidden dense layer (99 % in full mode)


@dataclass(frozen=True)
class ClassifierConfig:
    """What determines a trained classifier; its fields (and the mode) key the model cache.

    Quick mode caps epochs, steps and digits as a codec's training does (the same budget).
    """

    epochs: int = 10
    batch_size: int = 128
    learning_rate: float = 1e-3
    seed: int = 0
    steps_per_epoch: int | None = None
    train_digits: int | None = None
    test_digits: int | None = None
    quick: bool = field(default_factory=quick_mode)

    architecture = KIND  # what ldc.experiments orders trainings by

    def __post_init__(self):
        for name in ("epochs", "batch_size"):
            if getattr(self, name) is None:
                raise InputError(f"{name}=None: expected a positive int")
        for name in ("epochs", "batch_size", "steps_per_epoch", "train_digits", "test_digits"):
            _positive_int_or_none(name, getattr(self, name))  # batch_size bounded as a codec's is
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) or self.seed < 0:
            raise InputError(f"seed={shown(self.seed)}: expected a whole number")
        object.__setattr__(self, "learning_rate", _number_in("learning_rate", self.learning_rate, 1.0, "Adam's step"))
        cap_for_quick_mode(self)

    @property
    def mode(self):
        return mode_name(self.quick)

    def to_dict(self):
        return {"kind": KIND, **dataclasses.asdict(self)}

    @classmethod
    def from_dict(cls, values):
        if not isinstance(values, dict) or values.get("kind") != KIND:
            raise InputError("not a classifier's configuration")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(values) - known - {"kind"}
        if unknown:
            raise InputError(f"unknown ClassifierConfig fields {shown(sorted(map(str, unknown)), 200)}")
        return cls(**{k: v for k, v in values.items() if k != "kind"})

    def cache_key(self):
        from ldc.cache import config_key

        return config_key({"recipe": RECIPE_VERSION, **self.to_dict()})

    def describe(self):
        return f"digit classifier, {self.epochs} epochs, {self.mode}"


def make_classifier():
    """Return the untrained classifier: uint8 digits (N, 28, 28) scaled to [0, 1] in, ten logits out."""
    layers = tf.keras.layers
    return tf.keras.Sequential([
        tf.keras.Input((28, 28)),
        layers.Rescaling(1 / 255),
        layers.Reshape((28, 28, 1)),
        layers.Conv2D(32, 3, activation="relu", name="conv_1"),
        layers.MaxPooling2D(name="pool_1"),
        layers.Conv2D(64, 3, activation="relu", name="conv_2"),
        layers.MaxPooling2D(name="pool_2"),
        layers.Flatten(name="flatten"),
        layers.Dense(128, activation="relu", name="hidden"),
        layers.Dropout(0.5, name="dropout"),
        layers.Dense(10, name="logits"),
    ], name="classifier")


def _weights(model):
    """The classifier's variables by stable name (layer/variable), as Keras 2 and 3 both see them."""
    return {f"{layer.name}/{w.name.split('/')[-1].split(':')[0]}": w for layer in model.layers for w in layer.weights}


@dataclass
class Classifier:
    """A trained classifier: :meth:`predict` labels, :meth:`accuracy`, and how it was trained."""

    config: ClassifierConfig
    model: object
    history: list
    train_seconds: float
    cache: str  # "hit", "miss", "published" or "off", as a TrainedModel's
    release: str | None = None  # the release it was published in, if it was

    def predict(self, digits, batch_size=1000):
        """Return the predicted labels, int64 (N,), of uint8 digits (N, 28, 28)."""
        digits = as_digits(digits)
        logits = [self.model(digits[i:i + batch_size], training=False) for i in range(0, len(digits), batch_size)]
        return np.argmax(np.concatenate(logits), axis=1)

    def accuracy(self, digits, labels):
        """Return the share of ``digits`` whose predicted label is ``labels``' (a float in [0, 1])."""
        labels = np.asarray(labels)
        predicted = self.predict(digits)
        if labels.shape != predicted.shape:
            raise InputError(f"labels: expected {predicted.shape[0]} labels, got shape {labels.shape}")
        return float(np.mean(predicted == labels))


def train_classifier(config):
    """Train the classifier from scratch as ``config`` says; return a :class:`Classifier` (not cached)."""
    tf.keras.utils.set_random_seed(config.seed)
    train = load_mnist("train", limit=config.train_digits)
    test = load_mnist("test", limit=config.test_digits)
    model = make_classifier()
    optimizer = tf.keras.optimizers.Adam(config.learning_rate)
    loss = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    pairs = np.concatenate([train.images.reshape(len(train), -1), train.labels[:, None].astype(np.uint8)], axis=1)

    @tf.function(reduce_retracing=True)
    def step(batch):
        digits, labels = tf.reshape(batch[:, :784], (-1, 28, 28)), tf.cast(batch[:, 784], tf.int64)
        with tf.GradientTape() as tape:
            value = loss(labels, model(digits, training=True))
        gradients = tape.gradient(value, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables))
        return value

    steps = config.steps_per_epoch or -(-len(train) // config.batch_size)
    history, started = [], time.perf_counter()
    batches = shuffled_batches(pairs, config.batch_size, config.seed)
    for epoch in range(1, config.epochs + 1):
        losses = [float(step(next(batches))) for _ in range(steps)]
        classifier = Classifier(config, model, history, time.perf_counter() - started, "miss")
        history.append({"epoch": epoch, "train_loss": float(np.mean(losses)),
                        "test_accuracy": classifier.accuracy(test.images, test.labels)})
    return Classifier(config, model, history, time.perf_counter() - started, "miss")


def fit_readout(features, labels, epochs=20, hidden=64, seed=0):
    """Train a small dense network to read labels from feature vectors; return its ``predict``.

    ``features`` float (N, dims), e.g. a codec's rounded latents, and ``labels``
    int (N,) in 0..9. The network standardises each feature, has one hidden
    layer of ``hidden`` ReLU units and ten logits, and is trained with Adam on
    the cross-entropy (batches of 128, seeded). The returned function maps
    features (M, dims) to predicted labels int64 (M,). Chapter 7 uses it to ask
    how much label information a code holds, read by a reader trained on it.
    """
    features = np.asarray(features, np.float32)
    labels = np.asarray(labels)
    if features.ndim != 2 or labels.shape != (len(features),) or not len(features):
        raise InputError(f"fit_readout: expected features (N, dims) and N labels, "
                         f"got {features.shape} and {labels.shape}")
    if labels.min() < 0 or labels.max() > 9:
        raise InputError("fit_readout: labels must lie in 0..9")
    tf.keras.utils.set_random_seed(seed)
    layers = tf.keras.layers
    scale = layers.Normalization()
    scale.adapt(features)
    model = tf.keras.Sequential([tf.keras.Input((features.shape[1],)), scale,
                                 layers.Dense(hidden, activation="relu"), layers.Dense(10)])
    model.compile(optimizer=tf.keras.optimizers.Adam(1e-3),
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(features, labels.astype(np.int64), batch_size=128, epochs=epochs, verbose=0, shuffle=True)

    def predict(new_features):
        logits = model.predict(np.asarray(new_features, np.float32), batch_size=1000, verbose=0)
        return np.argmax(logits, axis=1).astype(np.int64)

    return predict


def restore_classifier(config, arrays, meta):
    """Return the :class:`Classifier` a cache entry holds (``cache`` "hit"); ValueError, KeyError or TypeError when
    the entry is not ``config``'s classifier. :func:`ldc.load_or_train` calls it."""
    if meta.get("config") != config.to_dict():
        raise ValueError("the entry holds another configuration")
    model = make_classifier()
    targets = _weights(model)
    if set(targets) != set(arrays):
        raise ValueError(f"stored weights {sorted(arrays)[:3]} do not fit the classifier")
    for name, variable in targets.items():
        variable.assign(arrays[name])
    release = meta.get("release")
    return Classifier(config, model, meta["history"], meta["train_seconds"], "hit",
                      release if isinstance(release, str) else None)


def classifier_entry(classifier):
    """Return ``(arrays, meta)``: what the model cache stores for a trained classifier."""
    arrays = {name: variable.numpy() for name, variable in _weights(classifier.model).items()}
    meta = {"config": classifier.config.to_dict(), "history": classifier.history,
            "train_seconds": classifier.train_seconds, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    return arrays, meta
