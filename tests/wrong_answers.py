"""Planted wrong answers: the mistakes a student could make, which the checks must catch.

``WRONG`` holds one per gradable exercise, ``ALSO_WRONG`` more for some.
tests/test_classroom.py puts them in the answer cells of the released
notebooks and requires each to fail a *visible* check (one that says what
is wrong), and the autograder to give that exercise 0.
"""
WRONG = {
    # bytes, not bits: 8 times too few
    "ex-dct-blank": """\
codec128 = ldc.DCTCodec(128).fit(train.images)
blank_bits = len(codec128.compress(np.zeros((1, 28, 28), np.uint8))[0])
digit_bits = ldc.bits_per_digit(codec128.compress(test.images))
""",
    # the largest signed values, not the largest magnitudes
    "ex-dct-fifty": """\
def keep_largest(c, k):
    order = np.argsort(-c, axis=-1)[..., :k]
    kept = np.zeros_like(c)
    np.put_along_axis(kept, order, np.take_along_axis(c, order, -1), -1)
    return kept


whole = ldc.DCTCodec(step=1, block=28)
c = whole.transform(test.images)
kept = np.zeros_like(c)
kept[..., :50] = c[..., :50]  # the first 50 in memory, not the lowest u + v
psnr_lowest = ldc.psnr(test.images, whole.inverse(kept))
psnr_largest = ldc.psnr(test.images, whole.inverse(keep_largest(c, 50)))
""",
    # the biases forgotten
    "ex-mlp-count": """\
mlp_encoder = 784 * 500 + 500 * 50
mlp_decoder = 50 * 500 + 500 * 784
""",
    # the share of the first layer, not of the biggest
    "ex-biggest-layer": """\
def biggest_layer(transform):
    layer = transform.layers[0]
    return layer.name, layer.count_params() / ldc.count_parameters(transform)
""",
    # noisy latents priced, not the rounded ones, and the sum over the batch
    "ex-untrained-prior": """\
fresh = ldc.LogisticPrior(latent_dims=model.latent_dims)
_, bits = fresh(rounded_out["latents"], training=False)
untrained_bits = float(bits.numpy().sum())
_, bits = prior(rounded_out["latents"], training=False)
trained_bits = float(bits.numpy().sum())
""",
    # the error's sign flipped: round(y) - y
    "ex-rounding-error": """\
error = np.round(y) - y
correlation = np.array([np.corrcoef(y[:, j], error[:, j])[0, 1]
                        for j in range(y.shape[1])])
""",
    # ln 2 on the wrong side
    "ex-vae-lambda": """\
vae_lmbda = 784 * np.log(2) / mae_noisy
""",
    # the slope's sign and the real bits instead of the information content
    "ex-slopes": """\
slopes = [(learned[b]["real_bits"] - learned[a]["real_bits"])
          / (learned[b]["mae"] - learned[a]["mae"])
          for a, b in zip(lambdas, lambdas[1:])]
""",
    # the payload without the strings' check byte instead of their whole length (the information
    # content, the other plausible slip, is caught by the check before)
    "ex-bits-per-pixel": """\
ours_bpp = ldc.bits_per_pixel(learned[2000]["payload_bits"])
png_bpp = ldc.bits_per_pixel(png["payload_bits"])
times_smaller = png_bpp / ours_bpp
""",
    # a fixed-width binary number for the longest length, not the entropy of the lengths
    # (an entropy in nats would slip through where every string has the same length)
    "ex-length-entropy": """\
lengths = np.array([len(s) for s in everything.strings])
length_bits = float(np.ceil(np.log2(lengths.max() + 1)))
""",
    # axis 1 moves the digit down, not right
    "ex-shift": """\
def shift_right(digits, k):
    return np.roll(digits, k, axis=1)


digits = test.images[:1000]
before = codec.compress(digits).information_bits
after = codec.compress(shift_right(digits, 3)).information_bits
share_costlier = float(np.mean(after > before))
""",
    # decode_random, which never refuses, instead of decompress
    "ex-flip": """\
def outcomes(damage):
    counts = {"refused": 0, "same": 0, "other": 0}
    for string in everything.strings[:1000]:
        intact = codec.decompress([string])[0]
        digit = codec.decode_random([damage(string)])[0]
        counts["same" if np.array_equal(digit, intact) else "other"] += 1
    return counts


def flip_middle(string):
    damaged = bytearray(string)
    damaged[len(damaged) // 2] ^= 0xFF
    return bytes(damaged)


flipped = outcomes(flip_middle)
appended = outcomes(lambda string: string + b"\\0")
""",
    # the mean over the wrong axis: one number per latent dimension and class mixed up
    "ex-class-means": """\
class_means = np.stack([latents[test.labels == d].mean(axis=1)[:codec.latent_dims]
                        for d in range(10)])
""",
    # uint8 arithmetic wraps around below zero
    "ex-nearest": """\
def nearest_digit(images, pool):
    gaps = np.stack([np.abs(pool - image).mean(axis=(1, 2)) for image in images])
    return gaps.argmin(axis=1)
""",
    # the accuracy, not the label information: chance accuracy is not zero
    "ex-bits-per-label": """\
learned = [p for p in points if p["codec"] == "learned"]
label_per_bit = [p["accuracy"] / p["content"] for p in learned]
""",
    # a sum over the digits, not a mean
    "ex-noise-cost": """\
clean = sum(map(len, dct.compress(test.images))) * 8
extra_bits = [float(sum(map(len, dct.compress(noisy[s]))) * 8 - clean)
              for s in sigmas]
""",
}


# More plausible mistakes, each a second planted notebook of its chapter.
ALSO_WRONG = {
    # the wrong step (64, not 128): plausible numbers that the old range checks let through
    "ex-dct-blank": """\
codec64 = ldc.DCTCodec(64).fit(train.images)
blank_bits = 8 * len(codec64.compress(np.zeros((1, 28, 28), np.uint8))[0])
digit_bits = ldc.bits_per_digit(codec64.compress(test.images))
""",
    # the right keep_largest, but the first 50 coefficients in memory order, not the
    # 50 lowest frequencies (the old check, psnr_lowest < psnr_largest, let it through)
    "ex-dct-fifty": """\
def keep_largest(c, k):
    order = np.argsort(-np.abs(c), axis=-1)[..., :k]
    kept = np.zeros_like(c)
    np.put_along_axis(kept, order, np.take_along_axis(c, order, -1), -1)
    return kept


whole = ldc.DCTCodec(step=1, block=28)
c = whole.transform(test.images)
kept = np.zeros_like(c)
kept[..., :50] = c[..., :50]
psnr_lowest = ldc.psnr(test.images, whole.inverse(kept))
psnr_largest = ldc.psnr(test.images, whole.inverse(keep_largest(c, 50)))
""",
    # the strings' real length, check byte included, not the information content
    "ex-bits-per-label": """\
learned = [p for p in points if p["codec"] == "learned"]
label_per_bit = [p["information"] / p["bits"] for p in learned]
""",
    # PNG's whole file, headers and all, instead of its payload
    "ex-bits-per-pixel": """\
ours_bpp = ldc.bits_per_pixel(learned[2000]["real_bits"])
png_bpp = ldc.bits_per_pixel(png["bits"])
times_smaller = png_bpp / ours_bpp
""",
    # "same" judged against the original digit, which no lossy decode equals (issue 17)
    "ex-flip": """\
flipped = {"refused": 0, "same": 0, "other": 0}
appended = {"refused": 0, "same": 0, "other": 0}
for string, original in zip(everything.strings[:1000], test.images):
    damaged = bytearray(string)
    damaged[len(damaged) // 2] ^= 0xFF
    for counts, bad in ((flipped, bytes(damaged)), (appended, string + b"\\0")):
        try:
            digit = codec.decompress([bad])[0]
        except ldc.InputError:
            counts["refused"] += 1
            continue
        counts["same" if np.array_equal(digit, original) else "other"] += 1
""",
    # the noisy rate (training=True) under the fresh prior, averaged correctly
    "ex-untrained-prior": """\
fresh = ldc.LogisticPrior(latent_dims=model.latent_dims)
_, bits = fresh(rounded_out["latents"], training=True)
untrained_bits = float(bits.numpy().mean())
_, bits = prior(rounded_out["latents"], training=False)
trained_bits = float(bits.numpy().mean())
""",
    # log base 2 where the natural logarithm belongs
    "ex-vae-lambda": """\
vae_lmbda = 784 / (mae_noisy * np.log2(2))
""",
    # the kernel's weights only: the biggest layer's biases forgotten
    "ex-biggest-layer": """\
def biggest_layer(transform):
    biggest = max(transform.layers, key=lambda layer: layer.count_params())
    weights = int(np.prod(biggest.kernel.shape))
    return biggest.name, weights / ldc.count_parameters(transform)
""",
    # a fixed-length code of the lengths that occur, not their entropy: every length as likely as any other
    "ex-length-entropy": """\
lengths = np.array([len(s) for s in everything.strings])
length_bits = float(np.log2(len(np.unique(lengths))))
""",
    # ten copies of the overall mean latent: right shape, right weighted average
    "ex-class-means": """\
class_means = np.tile(latents.mean(axis=0), (10, 1))
""",
    # the strings' whole-byte lengths instead of the information content
    "ex-shift": """\
def shift_right(digits, k):
    return np.roll(digits, k, axis=2)


first = test.images[:1000]
before = codec.compress(first).bits
after = codec.compress(shift_right(first, 3)).bits
share_costlier = float(np.mean(after > before))
""",
    # squared differences, where the question asks for the mean absolute one
    "ex-nearest": """\
def nearest_digit(images, pool):
    images = images.astype(np.float32)
    pool = pool.astype(np.float32)
    gaps = np.stack([((pool - image) ** 2).mean(axis=(1, 2))
                     for image in images])
    return gaps.argmin(axis=1)
""",
}
