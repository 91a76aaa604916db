import numpy as np
import pytest

import ldc
from ldc._tf import tf
from tests.conftest import synthetic_digits


def test_model_returns_per_digit_rate_and_distortion(digits):
    model = ldc.CompressionModel(latent_dims=10)
    out = model(digits[:5], training=False)
    assert out["rate"].shape == (5,) and out["distortion"].shape == (5,)
    assert out["latents"].shape == (5, 10) and out["reconstruction"].shape == (5, 28, 28, 1)
    assert np.all(out["rate"].numpy() > 0)
    expected = np.abs(digits[:5, :, :, None] / 255.0 - out["reconstruction"].numpy()).mean(axis=(1, 2, 3))
    np.testing.assert_allclose(out["distortion"], expected, rtol=1e-5)


def test_model_refuses_float_input():
    with pytest.raises(TypeError, match="uint8"):
        ldc.CompressionModel(latent_dims=4)(np.zeros((1, 28, 28), np.float32))


def test_lagrangian_is_rate_plus_lambda_distortion():
    assert float(ldc.lagrangian(tf.constant([10.0, 20.0]), tf.constant([0.1, 0.3]), 100.0)) == pytest.approx(35.0)


def test_train_step_updates_every_variable_including_the_prior(digits):
    tf.keras.utils.set_random_seed(0)
    model = ldc.CompressionModel(latent_dims=8)
    step = ldc.make_train_step(model, tf.keras.optimizers.Adam(1e-3), 500.0)
    before = [v.numpy().copy() for v in model.trainable_variables]
    step(digits[:32])
    changed = [not np.array_equal(b, v.numpy()) for b, v in zip(before, model.trainable_variables)]
    assert all(changed), [v.name for v, c in zip(model.trainable_variables, changed) if not c]


def test_training_lowers_the_loss_on_a_fixed_batch(digits):
    tf.keras.utils.set_random_seed(0)
    model = ldc.CompressionModel(latent_dims=8)
    step = ldc.make_train_step(model, tf.keras.optimizers.Adam(1e-3), 1000.0)
    losses = []
    for _ in range(60):
        rate, distortion = step(digits[:64])
        losses.append(float(rate) + 1000.0 * float(distortion))
    # 60 Adam steps on one batch cut the Lagrangian by about a third (122 -> 83 here).
    assert np.mean(losses[-5:]) < 0.8 * np.mean(losses[:5])


def test_train_step_runs_with_a_smaller_last_batch(digits):
    model = ldc.CompressionModel(latent_dims=4)
    step = ldc.make_train_step(model, tf.keras.optimizers.Adam(1e-3), 100.0)
    for batch in (digits[:16], digits[:7]):
        rate, distortion = step(batch)
        assert np.isfinite(float(rate)) and np.isfinite(float(distortion))


def test_training_batches_visit_every_digit_once_per_pass():
    images = synthetic_digits(10, seed=3)
    images[:, 0, 0] = np.arange(10)  # tag each digit
    batches = ldc.training_batches(images, batch_size=4, seed=1)
    passes = [[next(batches).numpy() for _ in range(3)] for _ in range(2)]
    for one_pass in passes:
        assert [len(b) for b in one_pass] == [4, 4, 2]
        assert sorted(np.concatenate(one_pass)[:, 0, 0]) == list(range(10))
    order = [np.concatenate(p)[:, 0, 0].tolist() for p in passes]
    assert order[0] != order[1]  # reshuffled every pass


def test_config_validates_and_round_trips():
    config = ldc.TrainConfig(lmbda=2000, latent_dims=20, epochs=3)
    assert ldc.TrainConfig.from_dict(config.to_dict()) == config
    assert config.mode == "full"
    with pytest.raises(ValueError, match="lmbda"):
        ldc.TrainConfig(lmbda=-1)
    with pytest.raises(ValueError, match="lmbda"):
        ldc.TrainConfig(lmbda=float("nan"))
    with pytest.raises(ValueError, match="epochs"):
        ldc.TrainConfig(lmbda=1, epochs=0)
    with pytest.raises(ValueError, match="architecture"):
        ldc.TrainConfig(lmbda=1, architecture="vit")
    with pytest.raises(ValueError, match="unknown TrainConfig fields"):
        ldc.TrainConfig.from_dict({"lmbda": 1, "colour": "red"})


def test_quick_mode_comes_from_the_environment_and_caps_the_budget(monkeypatch):
    monkeypatch.setenv("LDC_QUICK", "1")
    config = ldc.TrainConfig(lmbda=2000)
    assert config.quick and config.mode == "quick"
    assert config.epochs <= 2 and config.steps_per_epoch <= 25
    assert config.train_digits <= 4096 and config.test_digits <= 1000
    assert "Quick mode" in ldc.describe_mode()
    monkeypatch.setenv("LDC_QUICK", "0")
    assert not ldc.TrainConfig(lmbda=2000).quick
    monkeypatch.setenv("LDC_QUICK", "maybe")
    with pytest.raises(ValueError, match="LDC_QUICK='maybe'"):
        ldc.quick_mode()


def test_cache_keys_separate_modes_configs_and_recipes(monkeypatch):
    import ldc.training

    full = ldc.TrainConfig(lmbda=500, quick=False)
    assert full.cache_key() != ldc.TrainConfig(lmbda=500, quick=True).cache_key()
    assert full.cache_key() != ldc.TrainConfig(lmbda=500, quick=False, seed=1).cache_key()
    assert full.cache_key() == ldc.TrainConfig(lmbda=500.0, quick=False).cache_key()
    before = full.cache_key()
    monkeypatch.setattr(ldc.training, "RECIPE_VERSION", ldc.training.RECIPE_VERSION + 1)
    assert full.cache_key() != before


@pytest.mark.integration
def test_quick_training_on_real_mnist_improves_the_test_loss(monkeypatch):
    config = ldc.TrainConfig(lmbda=500, quick=True)
    result = ldc.train(config, verbose=False)
    assert len(result.history) == config.epochs and result.steps == config.epochs * config.steps_per_epoch
    first, last = result.history[0], result.history[-1]
    assert last["test_distortion"] < first["test_distortion"] or last["test_rate"] < first["test_rate"]
    assert result.steps_per_second > 1
    assert 0 < last["test_distortion"] < 0.3 and 0 < last["test_rate"] < 200


def test_fused_adam_makes_the_same_updates_as_keras_adam():
    rng = np.random.default_rng(0)
    start = [rng.normal(size=(5, 3)).astype(np.float32), rng.normal(size=(3,)).astype(np.float32)]
    grads = [[rng.normal(size=w.shape).astype(np.float32) for w in start] for _ in range(6)]
    results = []
    for make in (lambda vs: tf.keras.optimizers.Adam(1e-3), lambda vs: ldc.FusedAdam(vs, learning_rate=1e-3)):
        variables = [tf.Variable(w) for w in start]
        optimizer = make(variables)
        for step_grads in grads:
            optimizer.apply_gradients(zip([tf.constant(g) for g in step_grads], variables))
        results.append([v.numpy() for v in variables])
    for keras_value, fused_value, initial in zip(*results, start):
        assert not np.allclose(fused_value, initial)
        np.testing.assert_allclose(fused_value, keras_value, rtol=1e-5, atol=1e-7)


def test_fused_adam_refuses_foreign_variables():
    a, b = tf.Variable([1.0]), tf.Variable([2.0])
    with pytest.raises(ValueError, match="in that order"):
        ldc.FusedAdam([a]).apply_gradients([(tf.constant([1.0]), b)])


def test_config_description_reads_the_same_from_a_file_description():
    from ldc.training import describe_model

    config = ldc.TrainConfig(lmbda=2000, quick=False)
    assert config.describe() == "λ=2000, 50 latents, conv, 15 epochs, full"
    assert describe_model(config.to_dict()) == config.describe()
    assert describe_model({"latent_dims": 8}) == "8 latents"
    assert describe_model({}) == "no description"
