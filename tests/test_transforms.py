import numpy as np
import pytest

import ldc

# The seeds' report (001) publishes per-layer counts and totals; we recompute them from the layer shapes.
REPORT_ENCODER_TOTAL = 1_276_120
REPORT_DECODER_LAYERS = [250_500, 1_225_500, 0, 520, 501]  # fc_1, fc_2, reshape, conv_1, conv_2
REPORT_DECODER_TOTAL = 1_476_521


def conv(k, c_in, c_out):
    return (k * k * c_in + 1) * c_out


def dense(n_in, n_out):
    return (n_in + 1) * n_out


def test_analysis_parameter_count_matches_layer_arithmetic():
    expected = conv(5, 1, 20) + conv(5, 20, 50) + dense(7 * 7 * 50, 500) + dense(500, 50)
    assert expected == 1_276_120
    assert ldc.count_parameters(ldc.make_analysis_transform(50)) == expected == REPORT_ENCODER_TOTAL


def test_synthesis_parameter_count_refutes_the_published_one():
    # Transposed convolutions have as many weights as convolutions with in/out swapped.
    expected = dense(50, 500) + dense(500, 2450) + conv(5, 50, 20) + conv(5, 20, 1)
    assert expected == 1_278_471
    assert ldc.count_parameters(ldc.make_synthesis_transform(50)) == expected
    true_layers = [layer.count_params() for layer in ldc.make_synthesis_transform(50).layers]
    assert true_layers == [dense(50, 500), dense(500, 2450), 0, conv(5, 50, 20), conv(5, 20, 1)]
    # The report takes fc_1 as 500->500, miscounts fc_2, takes conv_1 as 1->20 channels ...
    wrong = [i for i, (ours, theirs) in enumerate(zip(true_layers, REPORT_DECODER_LAYERS)) if ours != theirs]
    assert wrong == [0, 1, 3]
    # ... and its own items do not even add up to its total.
    assert sum(REPORT_DECODER_LAYERS) == 1_477_021 != REPORT_DECODER_TOTAL
    assert expected != REPORT_DECODER_TOTAL


def test_whole_model_counts_transforms_and_one_scale_per_latent():
    model = ldc.CompressionModel(latent_dims=50)
    assert ldc.count_parameters(model) == 1_276_120 + 1_278_471 + 50


@pytest.mark.parametrize("latent_dims", [2, 10, 50, 128])
def test_latent_size_sets_the_bottleneck(latent_dims):
    analysis, synthesis = ldc.make_transforms("conv", latent_dims)
    x = np.random.default_rng(0).uniform(size=(3, 28, 28, 1)).astype(np.float32)
    y = analysis(x)
    assert y.shape == (3, latent_dims)
    assert synthesis(y).shape == (3, 28, 28, 1)
    assert ldc.count_parameters(analysis) == 1_276_120 - dense(500, 50) + dense(500, latent_dims)


def test_mlp_variant_shapes_and_counts():
    analysis, synthesis = ldc.make_transforms("mlp", 50)
    assert ldc.count_parameters(analysis) == dense(784, 500) + dense(500, 50)
    assert ldc.count_parameters(synthesis) == dense(50, 500) + dense(500, 784)
    assert synthesis(analysis(np.zeros((2, 28, 28, 1), np.float32))).shape == (2, 28, 28, 1)


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "50"])
def test_bad_latent_sizes_are_refused(bad):
    with pytest.raises(ValueError, match="latent_dims"):
        ldc.make_analysis_transform(bad)


def test_unknown_architecture_is_refused():
    with pytest.raises(ValueError, match="architecture"):
        ldc.make_transforms("resnet", 50)
