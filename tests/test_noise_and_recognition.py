"""Chapter 7's pieces: noise on digits, the denoising codec's training, the digit classifier and its cache."""
import numpy as np
import pytest

import ldc
from ldc import experiments
from ldc.recognition import ClassifierConfig


def test_noise_is_seeded_clipped_and_stays_a_digit():
    digits = np.stack([np.zeros((28, 28), np.uint8), np.full((28, 28), 255, np.uint8)])
    noisy = ldc.add_noise(digits, 0.5, seed=3)
    assert noisy.dtype == np.uint8 and noisy.shape == digits.shape
    assert np.array_equal(noisy, ldc.add_noise(digits, 0.5, seed=3))
    assert not np.array_equal(noisy, ldc.add_noise(digits, 0.5, seed=4))
    # Clipping: a black pixel can only get brighter, a white one only darker, about half of them each.
    assert 0.4 < np.mean(noisy[0] > 0) < 0.6 and 0.4 < np.mean(noisy[1] < 255) < 0.6
    assert np.array_equal(ldc.add_noise(digits, 0, seed=3), digits)
    spread = ldc.add_noise(np.full((50, 28, 28), 128, np.uint8), 0.1).astype(float) / 255
    assert abs(spread.std() - 0.1) < 0.005
    for bad in (-0.1, 3.0, "0.5", True, float("nan")):
        with pytest.raises(ldc.InputError, match="sigma"):
            ldc.add_noise(digits, bad)


def test_a_noiseless_configuration_keeps_the_cache_key_it_had_before_noise_existed():
    config = ldc.TrainConfig(lmbda=2000, quick=False)
    assert "noise" not in config.to_dict()
    # The reference model's key, as ldc 0.3.0 computed it before chapter 7 (the published models use it).
    assert config.cache_key().startswith("ca6821e48d")
    noisy = ldc.TrainConfig(lmbda=2000, noise=0.5, quick=False)
    assert noisy.to_dict()["noise"] == 0.5 and noisy.cache_key() != config.cache_key()
    assert ldc.TrainConfig.from_dict(noisy.to_dict()) == noisy
    assert "noise σ=0.5" in noisy.describe()
    assert experiments.denoiser(False) == noisy


@pytest.mark.integration
def test_the_denoising_step_scores_the_clean_digit():
    """With noise on, the distortion compares the decoded noisy digit with the clean one."""
    model = ldc.CompressionModel(latent_dims=4)
    clean = ldc.load_mnist("test", limit=8).images
    noisy = ldc.add_noise(clean, 0.5)
    against_clean = ldc.evaluate(model, noisy, targets=clean)["distortion"]
    against_noisy = ldc.evaluate(model, noisy)["distortion"]
    assert against_clean != against_noisy
    with pytest.raises(ValueError, match="targets"):
        ldc.evaluate(model, noisy, targets=clean[:4])
    optimizer = ldc.FusedAdam(model.trainable_variables)
    step = ldc.make_train_step(model, optimizer, 2000.0, noise=0.5)
    rate, distortion = step(clean)
    assert np.isfinite(float(rate)) and np.isfinite(float(distortion))


@pytest.mark.integration
def test_the_classifier_trains_caches_and_refuses_a_foreign_entry(tmp_path, monkeypatch):
    monkeypatch.setenv("LDC_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("LDC_PRETRAINED", "0")
    config = ClassifierConfig(epochs=1, steps_per_epoch=5, train_digits=640, test_digits=200, quick=False)
    lines = []
    trained = ldc.load_or_train(config, log=lines.append)
    assert trained.cache == "miss" and len(trained.history) == 1
    test = ldc.load_mnist("test", limit=200)
    accuracy = trained.accuracy(test.images, test.labels)
    assert accuracy == trained.history[-1]["test_accuracy"]
    again = ldc.load_or_train(config, log=lines.append)
    assert again.cache == "hit" and again.accuracy(test.images, test.labels) == accuracy
    assert np.array_equal(again.predict(test.images), trained.predict(test.images))
    assert ldc.count_parameters(again.model) == 225_034
    # A damaged entry is named, removed and trained again, never used.
    path = ldc.cache.entry_path(config.cache_key())
    path.write_bytes(path.read_bytes()[:-100])
    third = ldc.load_or_train(config, log=lines.append)
    assert third.cache == "miss" and any("removed it, training again" in line for line in lines)
    with pytest.raises(ValueError, match="fewer epochs"):  # only a codec's run stores its first epochs
        ldc.load_or_train(config, snapshots=[config])
    with pytest.raises(ldc.InputError, match="labels"):
        trained.accuracy(test.images, test.labels[:10])
    with pytest.raises(ldc.InputError):
        ClassifierConfig(epochs=0)
    assert ClassifierConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ldc.InputError):
        ClassifierConfig.from_dict({**config.to_dict(), "kind": "codec"})


def test_the_classifier_is_one_of_the_books_models_and_can_be_published():
    from ldc import published

    config = experiments.classifier(False)
    assert config in experiments.book_configs(False)
    assert published.file_name(config).startswith("full-classifier-10epochs-seed0-")
    assert "noise0.5" in published.file_name(experiments.denoiser(False))


def test_a_readout_learns_separable_labels_and_refuses_bad_input():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 2000)
    features = np.eye(10)[labels] * 3 + rng.normal(0, 0.3, (2000, 10))  # one feature per class
    predict = ldc.fit_readout(features[:1500], labels[:1500], epochs=10)
    predicted = predict(features[1500:])
    assert predicted.dtype == np.int64 and predicted.shape == (500,)
    assert np.mean(predicted == labels[1500:]) > 0.95
    assert np.array_equal(predicted, ldc.fit_readout(features[:1500], labels[:1500], epochs=10)(features[1500:]))
    for bad in [(features[:, 0], labels), (features, labels[:10]), (features, labels + 10)]:
        with pytest.raises(ldc.InputError, match="fit_readout"):
            ldc.fit_readout(*bad)
