"""Training on the rate-distortion Lagrangian: configuration, the step, the loop (chapters 2-4).

The loss is ``rate + lmbda * distortion``: rate in bits per digit (the
differentiable bound from :class:`ldc.entropy.LogisticPrior`), distortion the
mean absolute pixel error in [0, 1], as in the seeds. Adam at 1e-3, batches
of 128 digits, digits decoded once and kept in memory. On a 2-core CPU this
trains 15 epochs in about 156 s where the tutorial's pattern (TFDS decoding
every epoch, ``model.fit`` with dict losses) took 229-261 s, with the same
rate and distortion.

The step is an explicit ``tf.GradientTape`` step rather than the tutorial's
``compile(loss=dict(...))`` with pass-through losses, which fails under
Keras 3 (TensorFlow >= 2.16); this form runs unchanged under Keras 2 and 3.
"""
from __future__ import annotations

import dataclasses
import math
import sys
import time
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from ldc._tf import tf
from ldc.data import load_mnist, training_batches
from ldc.errors import InputError, TrainingError, shown
from ldc.model import CompressionModel, lagrangian
from ldc.modes import mode_name, quick_mode
from ldc.transforms import ARCHITECTURES

# Part of every cache key: bump it when a change to the training code would give
# a different model for the same TrainConfig, so old cache entries are not reused.
RECIPE_VERSION = 1
# What quick mode keeps of a configuration: the same code path on a budget that
# runs in seconds (results are rough, every cell still runs).
QUICK_BUDGET = {"epochs": 2, "steps_per_epoch": 25, "train_digits": 4096, "test_digits": 1000}
EVAL_BATCH = 1000  # digits per evaluation batch (forward only, so larger than training's)


MAX_LMBDA = 1e5  # far above the course's 100-8000; larger weights only push float32 training towards overflow
SEED_OFFSET_ENV = "LDC_SEED_OFFSET"  # added to every book model's seed (ldc.experiments, ldc.settings)
SEEDS = 2 ** 32  # NumPy's and TensorFlow's seeds are 0 .. 2**32 - 1
# Sizes are bounded before a model is built, so a typo cannot ask TensorFlow for gigabytes: a latent larger
# than the 784 pixels it describes codes nothing a digit holds, and a batch of 4,096 digits already takes
# the conv transforms about 1 GB (60,000, the whole training set at once, would take 15).
MAX_SIZES = {"latent_dims": 784, "batch_size": 4096}


def cap_for_quick_mode(config):
    """Check a frozen configuration's ``quick`` flag and, when it is set, cap its fields by ``QUICK_BUDGET``.

    For every configuration with ``quick``, ``epochs``, ``steps_per_epoch``,
    ``train_digits`` and ``test_digits`` fields (codecs and the classifier).
    """
    if not isinstance(config.quick, (bool, np.bool_)):
        raise InputError(f"quick={shown(config.quick)}: expected True or False")
    object.__setattr__(config, "quick", bool(config.quick))
    if config.quick:
        for name, cap in QUICK_BUDGET.items():
            value = getattr(config, name)
            object.__setattr__(config, name, cap if value is None else min(int(value), cap))


def _positive_int_or_none(name, value):
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise InputError(f"{name}={shown(value)}: expected a positive int or None")
    if name in MAX_SIZES and value > MAX_SIZES[name]:
        raise InputError(f"{name}={value:,}: at most {MAX_SIZES[name]:,}")


def _number_in(name, value, high, meaning):
    """Return ``value`` as a float in (0, high]; ValueError naming it otherwise (text and booleans are not numbers)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InputError(f"{name}={shown(value)}: expected a number ({meaning})")
    try:
        number = float(value)
    except OverflowError:  # an int too large for a float
        number = math.inf
    if not (math.isfinite(number) and 0 < number <= high):
        raise InputError(f"{name}={shown(value)}: expected a number in (0, {high:g}] ({meaning})")
    return number


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a trained model; its fields (and the mode) key the model cache.

    ``quick`` defaults to the ``LDC_QUICK`` environment variable; when it is
    set, epochs, steps per epoch and the number of training and test digits
    are capped by ``QUICK_BUDGET``. ``steps_per_epoch=None`` means one pass
    over the training digits (469 steps for all 60,000 at batch 128);
    ``train_digits`` / ``test_digits`` of None mean the whole split.
    ``noise`` > 0 trains a denoising codec (chapter 7): each training batch
    gets Gaussian noise of that standard deviation on [0, 1] pixels (clipped,
    rounded to 0..255, drawn anew each step) and the distortion compares the
    decoded noisy digit with the clean one; its test rate and distortion are
    measured on noisy test digits (:func:`ldc.noise.add_noise`, seed 0)
    against the clean ones. A configuration without noise keeps the cache key
    it had before the field existed.
    """

    lmbda: float
    latent_dims: int = 50
    architecture: str = "conv"
    epochs: int = 15
    steps_per_epoch: Optional[int] = None
    batch_size: int = 128
    learning_rate: float = 1e-3
    seed: int = 0
    train_digits: Optional[int] = None
    test_digits: Optional[int] = None
    quick: bool = field(default_factory=quick_mode)
    noise: float = 0.0

    def __post_init__(self):
        object.__setattr__(self, "lmbda", _number_in("lmbda", self.lmbda, MAX_LMBDA, "the weight of distortion"))
        if not isinstance(self.architecture, str) or self.architecture not in ARCHITECTURES:
            raise InputError(f"architecture={shown(self.architecture)}: expected one of {ARCHITECTURES}")
        for name in ("latent_dims", "epochs", "batch_size"):
            if getattr(self, name) is None:
                raise InputError(f"{name}=None: expected a positive int")
            _positive_int_or_none(name, getattr(self, name))
            object.__setattr__(self, name, int(getattr(self, name)))
        for name in ("steps_per_epoch", "train_digits", "test_digits"):
            _positive_int_or_none(name, getattr(self, name))
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) or not 0 <= self.seed < SEEDS:
            raise InputError(f"seed={shown(self.seed)}: expected an int in 0..{SEEDS - 1}")
        object.__setattr__(self, "seed", int(self.seed))
        object.__setattr__(self, "learning_rate", _number_in("learning_rate", self.learning_rate, 1.0, "Adam's step"))
        from ldc.noise import check_sigma

        object.__setattr__(self, "noise", check_sigma(self.noise))
        cap_for_quick_mode(self)

    @property
    def mode(self):
        """``"quick"`` or ``"full"``."""
        return mode_name(self.quick)

    def to_dict(self):
        """Return the configuration as a plain dict (JSON-ready); ``noise`` only when it is not 0."""
        values = dataclasses.asdict(self)
        if not values["noise"]:
            del values["noise"]  # so the cache keys of the models trained before chapter 7 still hold
        return values

    def cache_key(self):
        """Return the model-cache key of this configuration and the training recipe (64 hex digits)."""
        from ldc.cache import config_key

        return config_key({"recipe": RECIPE_VERSION, **self.to_dict()})

    @classmethod
    def from_dict(cls, values):
        """Return the configuration stored by :meth:`to_dict` (unknown keys are an error)."""
        if not isinstance(values, dict):
            raise InputError(f"a TrainConfig is made from a dict, not a {type(values).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise InputError(f"unknown TrainConfig fields {shown(sorted(map(str, unknown)), 200)}")
        return cls(**values)

    def describe(self):
        """Return a short human-readable summary, e.g. ``λ=2000, 50 latents, conv, 15 epochs, full``."""
        return describe_model(self.to_dict())


def describe_model(description):
    """Return a short text for a (possibly partial, possibly untrusted) configuration dict, as
    :meth:`TrainConfig.describe` writes it.

    Container files carry ``TrainConfig.to_dict()`` as their model
    description; this names the model in messages about such files. Fields of
    unexpected types are shown quoted and escaped (:func:`ldc.errors.shown`).
    """
    def number(value):  # a finite float, or an int a float holds (math.isfinite fails on a 4,000-digit int)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        return abs(value) <= 2 ** 53 if isinstance(value, int) else math.isfinite(value)

    # Short enough that a load line with it fits a page's output column (chapters print one per model).
    formats = {"lmbda": lambda v: f"λ={v:g}" if number(v) else None,
               "latent_dims": lambda v: f"{v} latents" if number(v) else None,
               "architecture": lambda v: v if v in ARCHITECTURES else None,
               "epochs": lambda v: f"{v} epochs" if number(v) else None,
               "noise": lambda v: f"noise σ={v:g}" if number(v) else None,
               "quick": lambda v: mode_name(v) if isinstance(v, bool) else None}
    parts = []
    for key, format_value in formats.items():
        if key in description:
            parts.append(format_value(description[key]) or f"{key}={shown(description[key], 40)}")
    return ", ".join(parts) or "no description"


@dataclass
class TrainResult:
    """A freshly trained model with its per-epoch ``history`` and timings (seconds)."""

    model: CompressionModel
    history: list
    train_seconds: float  # wall time of all epochs, evaluation included
    step_seconds: float  # time spent in training steps only
    steps: int

    @property
    def steps_per_second(self):
        """Training steps (batches) per second, evaluation excluded."""
        return self.steps / self.step_seconds if self.step_seconds > 0 else float("nan")


class FusedAdam:
    """Adam (Kingma & Ba, 2015) applied with TensorFlow's fused ``ResourceApplyAdam`` kernel, one op per variable.

    The update is the one ``tf.keras.optimizers.Adam`` makes with the same
    hyperparameters (bias-corrected step ``lr * sqrt(1 - b2^t) / (1 - b1^t)``,
    epsilon added to ``sqrt(v)``). Keras's optimizer spells the update out in
    a dozen small ops per variable; the fused kernel makes training about 4%
    faster on a 2-core CPU. It is a plain TensorFlow op, so it works under
    Keras 2 and Keras 3 alike.
    """

    def __init__(self, variables, learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
        self.variables = list(variables)
        self.learning_rate, self.beta_1, self.beta_2, self.epsilon = learning_rate, beta_1, beta_2, epsilon
        self._m = [tf.Variable(tf.zeros_like(v), trainable=False) for v in self.variables]
        self._v = [tf.Variable(tf.zeros_like(v), trainable=False) for v in self.variables]
        self.iterations = tf.Variable(0, dtype=tf.int64, trainable=False)

    def apply_gradients(self, grads_and_vars):
        """Apply one Adam step; ``grads_and_vars`` pairs each gradient with its variable, in construction order."""
        pairs = list(grads_and_vars)
        if [id(v) for _, v in pairs] != [id(v) for v in self.variables]:
            raise ValueError("FusedAdam: gradients must come for the variables it was built with, in that order")
        t = tf.cast(self.iterations.assign_add(1), tf.float32)
        beta_1_power, beta_2_power = tf.pow(self.beta_1, t), tf.pow(self.beta_2, t)
        for (grad, variable), m, v in zip(pairs, self._m, self._v):
            tf.raw_ops.ResourceApplyAdam(
                var=variable.handle, m=m.handle, v=v.handle, beta1_power=beta_1_power, beta2_power=beta_2_power,
                lr=tf.constant(self.learning_rate, tf.float32), beta1=tf.constant(self.beta_1, tf.float32),
                beta2=tf.constant(self.beta_2, tf.float32), epsilon=tf.constant(self.epsilon, tf.float32), grad=grad)


def make_train_step(model, optimizer, lmbda, noise=0.0):
    """Return a ``tf.function`` that takes uint8 digits, does one Adam step on the Lagrangian, and returns (rate,
    distortion) batch means.

    ``noise`` > 0: the model sees the digits with Gaussian noise of that
    standard deviation on [0, 1] pixels (clipped, rounded to 0..255) and is
    scored against the clean digits.
    """
    lmbda = tf.constant(lmbda, tf.float32)

    def noisy(digits):
        pixels = tf.cast(digits, tf.float32) / 255.0
        pixels += noise * tf.random.normal(tf.shape(pixels))
        return tf.cast(tf.round(tf.clip_by_value(pixels, 0.0, 1.0) * 255.0), tf.uint8)

    @tf.function(reduce_retracing=True)
    def train_step(digits):
        with tf.GradientTape() as tape:
            out = model(noisy(digits), training=True, targets=digits) if noise else model(digits, training=True)
            loss = lagrangian(out["rate"], out["distortion"], lmbda)
        variables = model.trainable_variables
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return tf.reduce_mean(out["rate"]), tf.reduce_mean(out["distortion"])

    return train_step


class Trainer:
    """The steps of one training run: the model's optimizer, its compiled step and its stream of batches.

    What :func:`train` runs each epoch, and what ``make bench`` times against
    the tutorial's ``compile``/``fit`` pattern.

    Args:
      model: the :class:`CompressionModel` to train.
      lmbda: the weight of distortion in the Lagrangian.
      images: uint8 training digits (N, 28, 28).
      batch_size, learning_rate, seed, noise: as in :class:`TrainConfig`.
    """

    def __init__(self, model, lmbda, images, batch_size=128, learning_rate=1e-3, seed=0, noise=0.0):
        self.optimizer = FusedAdam(model.trainable_variables, learning_rate=learning_rate)
        self.step = make_train_step(model, self.optimizer, lmbda, noise)
        self.batches = training_batches(images, batch_size, seed=seed)

    def epoch(self, steps):
        """Run ``steps`` training steps; return their batch means ``(rates, distortions)``, float64 (steps,) each."""
        means = [self.step(next(self.batches)) for _ in range(steps)]
        return tuple(np.array([float(v) for v in column]) for column in zip(*means))  # waits for the last step


def evaluate(model, digits, batch_size=EVAL_BATCH, targets=None):
    """Return ``{"rate": bits per digit, "distortion": MAE in [0, 1]}`` on uint8 digits, latents rounded.

    ``rate`` is the information content of the quantized latents under the
    prior; ``distortion`` compares the decoder's float output (not clipped or
    rounded) with the digits, as the training objective does, or with
    ``targets`` (the clean digits of noisy ``digits``) when given.
    """
    digits = np.asarray(digits)
    if len(digits) == 0:
        raise ValueError("evaluate: no digits given")
    targets = digits if targets is None else np.asarray(targets)
    if targets.shape != digits.shape:
        raise ValueError(f"evaluate: targets {targets.shape} do not match digits {digits.shape}")
    forward = _eval_fn(model)
    rate = distortion = 0.0
    for start in range(0, len(digits), batch_size):
        r, d = forward(digits[start:start + batch_size], targets[start:start + batch_size])
        rate += float(r)
        distortion += float(d)
    return {"rate": rate / len(digits), "distortion": distortion / len(digits)}


def _eval_fn(model):
    fn = getattr(model, "_ldc_eval_fn", None)
    if fn is None:
        @tf.function(reduce_retracing=True)
        def fn(digits, targets):
            out = model(digits, training=False, targets=targets)
            return tf.reduce_sum(out["rate"]), tf.reduce_sum(out["distortion"])
        model._ldc_eval_fn = fn
    return fn


def _log(message):
    print(message, file=sys.stderr, flush=True)


def train(config, verbose=True, log=None, on_epoch=None):
    """Train a :class:`CompressionModel` from scratch on MNIST as ``config`` says; return a :class:`TrainResult`.

    Seeds TensorFlow, NumPy and Python with ``config.seed``. Prints one line
    per epoch (to stderr, or to ``log(message)``) unless ``verbose=False``.
    ``on_epoch(result)``, if given, is called after every epoch with a
    :class:`TrainResult` of the run so far (the model as it is at that epoch).
    """
    log = log or _log
    tf.keras.utils.set_random_seed(config.seed)
    train_digits = load_mnist("train", limit=config.train_digits).images
    test_digits = load_mnist("test", limit=config.test_digits).images
    steps_per_epoch = config.steps_per_epoch or math.ceil(len(train_digits) / config.batch_size)

    model = CompressionModel(config.latent_dims, config.architecture)
    trainer = Trainer(model, config.lmbda, train_digits, config.batch_size, config.learning_rate, config.seed,
                      config.noise)
    test_inputs = test_digits
    if config.noise:
        from ldc.noise import add_noise

        test_inputs = add_noise(test_digits, config.noise, seed=0)

    if verbose:
        log(f"training {config.describe()}: {steps_per_epoch} steps per epoch on {len(train_digits)} digits, "
            f"testing on {len(test_digits)}")
    history = []
    step_seconds = 0.0
    started = time.perf_counter()
    for epoch in range(1, config.epochs + 1):
        epoch_started = time.perf_counter()
        rates, distortions = trainer.epoch(steps_per_epoch)
        if not (np.all(np.isfinite(rates)) and np.all(np.isfinite(distortions))):
            raise TrainingError(f"training {config.describe()} diverged in epoch {epoch}: the loss became NaN or "
                                "infinite; a smaller lmbda or learning rate trains")
        steps_done = time.perf_counter()
        step_seconds += steps_done - epoch_started
        test = evaluate(model, test_inputs, targets=test_digits)
        record = {
            "epoch": epoch,
            "train_rate": float(rates.mean()),
            "train_distortion": float(distortions.mean()),
            "test_rate": test["rate"],
            "test_distortion": test["distortion"],
            "seconds": time.perf_counter() - epoch_started,
        }
        history.append(record)
        if on_epoch is not None:
            on_epoch(TrainResult(model, list(history), time.perf_counter() - started, step_seconds,
                                 steps_per_epoch * epoch))
        if verbose:
            log(f"epoch {epoch:2d}/{config.epochs}  train: {record['train_rate']:6.2f} bits, "
                f"MAE {record['train_distortion']:.4f}"
                f" | test: {record['test_rate']:6.2f} bits, MAE {record['test_distortion']:.4f}"
                f"  ({record['seconds']:.1f} s, {steps_per_epoch / (steps_done - epoch_started):.1f} steps/s)")
    return TrainResult(model, history, time.perf_counter() - started, step_seconds, steps_per_epoch * config.epochs)
