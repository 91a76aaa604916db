import matplotlib.pyplot as plt
import numpy as np
import pytest

import ldc


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_digit_grid_shows_originals_strings_and_reconstructions(digits):
    strings = [bytes([i, 255 - i]) for i in range(10)]
    fig = ldc.digit_grid(digits[:10], digits[:10], strings=strings, bits=np.arange(10) + 0.5, columns=5)
    images = [ax for ax in fig.axes if ax.images]
    assert len(images) == 20  # 10 originals + 10 reconstructions
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert len(titles) == 10 and titles[1].startswith("0x01fe") and "16 bits (1.5)" in titles[1]


def test_digit_grid_checks_lengths(digits):
    with pytest.raises(ValueError, match="reconstructions"):
        ldc.digit_grid(digits[:3], digits[:2])


def test_prior_densities_draws_one_curve_per_dimension():
    prior = ldc.LogisticPrior(6)
    prior.log_scales.assign(np.linspace(-2, 1, 6).astype(np.float32))
    fig = ldc.prior_densities(prior)
    assert len(fig.axes[0].lines) == 6
    assert "0.14 to 2.7" in fig.axes[0].get_title()


def test_rd_curves_sorts_by_rate_and_labels_the_axes():
    fig = ldc.rd_curves({"learned": ([40, 10, 20], [20, 14, 17]), "JPEG": ([300, 500], [15, 25])}, metric="psnr")
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.lines] == ["learned", "JPEG"]
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), [10, 20, 40])
    assert ax.get_ylabel() == "PSNR (dB)" and "bits per digit" in ax.get_xlabel()
    with pytest.raises(ValueError, match="metric"):
        ldc.rd_curves({}, metric="ssim")


def test_training_history_plots_train_and_test():
    history = [{"epoch": e, "train_rate": 50 - e, "test_rate": 48 - e, "train_distortion": 0.05,
                "test_distortion": 0.05} for e in (1, 2, 3)]
    fig = ldc.training_history(history)
    assert len(fig.axes) == 2 and all(len(ax.lines) == 2 for ax in fig.axes)


def test_digit_rows_draws_one_labelled_row_per_entry(digits):
    fig = ldc.digit_rows({"original": digits[:4], "lambda=300": 255 - digits[:4]})
    assert fig.axes[0].get_ylabel() == "original" and fig.axes[4].get_ylabel() == "lambda=300"
    assert np.array_equal(fig.axes[5].images[0].get_array(), 255 - digits[1])
    with pytest.raises(ValueError, match="different numbers"):
        ldc.digit_rows({"a": digits[:4], "b": digits[:3]})


def test_curve_picks_rates_and_metric_from_points():
    points = [{"bits": 10.0, "payload_bits": 4.0, "mae": 0.2, "psnr_db": 12.0},
              {"bits": 20.0, "payload_bits": 9.0, "mae": 0.1, "psnr_db": 17.0}]
    rates, values = ldc.curve(points, "psnr", rate="payload_bits")
    assert rates.tolist() == [4.0, 9.0] and values.tolist() == [12.0, 17.0]
    assert ldc.curve(points, "mae")[1].tolist() == [0.2, 0.1]
    with pytest.raises(ValueError, match="real_bits"):
        ldc.curve(points, "mae", rate="real_bits")
