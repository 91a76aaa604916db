"""Training speed on this machine: ldc's training step against the TensorFlow tutorial's compile/fit pattern.

    python tools/bench_training.py [--steps 300] [--rounds 2] [--lmbda 2000]

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

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


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
    parser.add_argument("--steps", type=int, default=300, help="steps per epoch (default 300)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of both patterns (default 2)")
    parser.add_argument("--lmbda", type=float, default=2000.0)
    args = parser.parse_args(argv)

    import ldc
    from ldc._tf import tf

    images = ldc.load_mnist("train").images
    print(f"bench: {cpu_model()}, {os.cpu_count()} cores; Python {platform.python_version()}, "
          f"TensorFlow {tf.__version__}, entropy backend {ldc.describe_backend()}", flush=True)
    results = {"tutorial pattern (compile/fit)": [], "ldc": []}
    for round_ in range(1, args.rounds + 1):
        for name, measure in (("tutorial pattern (compile/fit)", tutorial_steps_per_second),
                              ("ldc", ldc_steps_per_second)):
            speed = measure(images, args.lmbda, args.steps)
            results[name].append(speed)
            print(f"bench: round {round_}: {name}: {speed:.1f} steps/s", flush=True)
    best = {name: max(speeds) for name, speeds in results.items()}
    print(f"bench: steady state, batch 128, best of {args.rounds}: ldc {best['ldc']:.1f} steps/s, "
          f"tutorial pattern {best['tutorial pattern (compile/fit)']:.1f} steps/s: "
          f"ldc is {best['ldc'] / best['tutorial pattern (compile/fit)']:.2f}x the tutorial pattern")


if __name__ == "__main__":
    main()
