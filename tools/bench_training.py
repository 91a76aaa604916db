"""Training speed on this machine: ldc's training step against the TensorFlow tutorial's own code.

    python tools/bench_training.py [--steps 200] [--rounds 2] [--lmbda 2000] [--anchor PATH]

The reference is the tutorial itself (``../shared/anchors/tf_tutorial_mnist.py``
on this project's machines, or ``--anchor``): its own model (tensorflow-compression's
layers and prior) and its own ``compile``/``fit`` over ``tf.data``, run in a
subprocess with ``--fit-only``; its second epoch's seconds give its steady-state
steps per second. Where that script is absent (or tensorflow-compression is, on
the modern stack), the bench says so and times the tutorial's pattern on ldc's
model instead, as below.

Both train the same model (ldc's CompressionModel: the seeds' transforms and
prior) on the same in-memory training digits, batch 128, Adam at 1e-3, the
same Lagrangian. The tutorial pattern is Keras's ``compile`` and ``fit`` over
a ``tf.data`` pipeline with ``prefetch(8)``, as the TensorFlow tutorial trains
(its TFDS decoding left out, so the comparison is about the step); ldc's is
what ``ldc.train`` runs. Each is timed in steady state: two epochs of
``--steps`` steps, the first (tracing, warm-up) not counted. The rounds
alternate, so both see the same machine load; the ratio is what to compare.
Not a test: speed belongs to the machine. ``make bench`` runs this.
"""
import argparse
import os
import platform
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ANCHOR = Path(__file__).resolve().parents[2] / "shared" / "anchors" / "tf_tutorial_mnist.py"


def cpu_model():
    """Return the CPU's model name (from /proc/cpuinfo on Linux), or what platform knows."""
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def tutorial_steps_per_second(images, lmbda, steps):
    """Steps per second of the compile/fit pattern in its second epoch."""
    import ldc
    from ldc._tf import tf

    class TutorialTrainer(ldc.CompressionModel):
        # The tutorial passes rate and distortion through as two losses with weights 1 and lmbda; Keras 3 refuses
        # such pass-through dict losses, so the same sum is computed here, where fit asks for the loss.
        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, **kwargs):
            return ldc.lagrangian(y_pred["rate"], y_pred["distortion"], lmbda)

    tf.keras.utils.set_random_seed(0)
    trainer = TutorialTrainer()
    trainer.compile(optimizer=tf.keras.optimizers.Adam(learning_rate=1e-3))
    data = tf.data.Dataset.from_tensor_slices(images).repeat().batch(128).prefetch(8)
    epochs = []

    class Clock(tf.keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            epochs.append(time.perf_counter() - self.started)

    trainer.fit(data, epochs=2, steps_per_epoch=steps, verbose=0, callbacks=[Clock()])
    return steps / epochs[1]


# The tutorial's dataset is not repeated and Keras does not restart it between epochs when steps_per_epoch is
# given: two epochs must fit in one pass over the 60,000 digits (469 batches of 128), or the second epoch stops
# early ("Your input ran out of data") and its seconds cover fewer steps than asked.
ANCHOR_MAX_STEPS = -(-60000 // 128) // 2


def anchor_steps_per_second(anchor, lmbda, steps):
    """Steps per second of the tutorial's own script (its second epoch), run as it runs: a subprocess."""
    import json
    import subprocess
    import sys

    if steps > ANCHOR_MAX_STEPS:
        raise ValueError(f"--steps {steps}: the tutorial's script runs two epochs over one pass of its data, so at "
                         f"most {ANCHOR_MAX_STEPS} steps each")
    done = subprocess.run([sys.executable, str(anchor), f"{lmbda:g}", "2", str(steps), "--fit-only"],
                          capture_output=True, text=True, timeout=1800)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"{anchor} failed ({done.returncode}): {done.stderr.strip()[-400:]}")
    if "ran out of data" in done.stderr:
        raise RuntimeError(f"{anchor}: its second epoch ran out of data, so it ran fewer than {steps} steps")
    return steps / json.loads(lines[-1][len("RESULT "):])["last_epoch_s"]


def ldc_steps_per_second(images, lmbda, steps):
    """Steps per second of ldc's training step (what ``ldc.train`` runs) in its second epoch."""
    import ldc
    from ldc import training
    from ldc._tf import tf

    tf.keras.utils.set_random_seed(0)
    model = ldc.CompressionModel()
    run = training.Trainer(model, lmbda, images, batch_size=128, learning_rate=1e-3, seed=0)
    run.epoch(steps)
    started = time.perf_counter()
    run.epoch(steps)
    return steps / (time.perf_counter() - started)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200,
                        help=f"steps per epoch (default 200; at most {ANCHOR_MAX_STEPS} against the tutorial's script)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of both patterns (default 2)")
    parser.add_argument("--lmbda", type=float, default=2000.0)
    parser.add_argument("--anchor", type=Path, default=ANCHOR, help="the tutorial as a script (default: %(default)s)")
    args = parser.parse_args(argv)

    import ldc
    from ldc._tf import tf

    images = ldc.load_mnist("train").images
    print(f"bench: {cpu_model()}, {os.cpu_count()} cores; Python {platform.python_version()}, "
          f"TensorFlow {tf.__version__}, entropy backend {ldc.describe_backend()}", flush=True)
    from ldc.backends import tfc_installed

    if args.anchor.is_file() and tfc_installed():
        reference = "the tutorial's own code"
        print(f"bench: the reference is {args.anchor} (its model, its compile/fit over tf.data)", flush=True)

        def measure_reference(images, lmbda, steps):
            return anchor_steps_per_second(args.anchor, lmbda, steps)
    else:
        reference = "the tutorial's pattern on ldc's model"
        why = "tensorflow-compression is not installed" if args.anchor.is_file() else f"{args.anchor} is absent"
        print(f"bench: the tutorial's own code cannot run here ({why}): the reference is its compile/fit pattern "
              "on ldc's model", flush=True)
        measure_reference = tutorial_steps_per_second
    results = {reference: [], "ldc": []}
    for round_ in range(1, args.rounds + 1):
        for name, measure in ((reference, measure_reference), ("ldc", ldc_steps_per_second)):
            speed = measure(images, args.lmbda, args.steps)
            results[name].append(speed)
            print(f"bench: round {round_}: {name}: {speed:.1f} steps/s", flush=True)
    best = {name: max(speeds) for name, speeds in results.items()}
    print(f"bench: steady state, batch 128, best of {args.rounds}, {cpu_model()}: ldc {best['ldc']:.1f} steps/s, "
          f"{reference} {best[reference]:.1f} steps/s: ldc is {best['ldc'] / best[reference]:.2f}x {reference}")


if __name__ == "__main__":
    main()
