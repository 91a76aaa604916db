"""The one list of models the chapters use (ldc.experiments), and prepare(), which `make book` runs first."""
import re
from pathlib import Path

import pytest

import ldc
from ldc import experiments

BOOK = Path(__file__).resolve().parents[1] / "book"
CHAPTERS = sorted(BOOK.glob("[0-9][0-9]_*.md"))


def _code_before_the_exercises(chapter):
    text = chapter.read_text().split("\n## Exercises\n", 1)[0]
    return "\n".join(re.findall(r"^```\{code-cell\}[^\n]*\n(.*?)^```", text, re.S | re.M))


def test_chapters_take_every_model_configuration_from_the_list():
    for chapter in CHAPTERS:
        code = _code_before_the_exercises(chapter)
        assert "TrainConfig(" not in code, f"{chapter.name} writes a configuration of its own"
        for name in re.findall(r"ldc\.experiments\.(\w+)\(", code):
            assert name in {"reference", "transforms", "lambda_sweep", "report_check", "denoiser", "classifier"}, name


def test_the_book_list_holds_each_chapter_model_once_longest_first():
    configs = experiments.book_configs(quick=False)
    keys = [config.cache_key() for config in configs]
    assert len(keys) == len(set(keys)) == 19
    wanted = [experiments.reference(False), *experiments.transforms(False).values(),
              *experiments.lambda_sweep(False).values(), *experiments.report_check(False).values(),
              experiments.denoiser(False), experiments.classifier(False)]
    assert {config.cache_key() for config in wanted} == set(keys)
    work = [experiments._expected_work(config) for config in configs]
    assert work == sorted(work, reverse=True)
    assert [config.epochs for config in configs[:7]] == [15] * 7  # the 15-epoch codecs first
    assert all(config.quick for config in experiments.book_configs(quick=True))


def test_the_report_checks_five_epoch_models_ride_on_the_sweeps_fifteen_epoch_runs():
    runs = dict(experiments._runs(experiments.book_configs(quick=False)))
    assert len(runs) == 15  # 19 models: 4 of them are the first 5 epochs of a 15-epoch run
    carried = {(s.lmbda, s.epochs) for snapshots in runs.values() for s in snapshots}
    assert carried == {(300.0, 5), (500.0, 5), (1000.0, 5), (2000.0, 5)}
    for config, snapshots in runs.items():
        for snapshot in snapshots:
            assert config.epochs == 15 and ldc.TrainConfig(**{**snapshot.to_dict(), "epochs": 15}) == config
    # The denoiser is the reference model's recipe on noisy digits: its own entry, never a snapshot.
    assert experiments.denoiser(False) in runs and experiments.denoiser(False).cache_key() != \
        experiments.reference(False).cache_key()


@pytest.mark.integration
def test_a_snapshot_is_the_model_a_shorter_run_trains(monkeypatch):
    monkeypatch.setenv("LDC_QUICK", "1")
    short = ldc.TrainConfig(lmbda=900.0, epochs=1, steps_per_epoch=4)
    long = ldc.TrainConfig(lmbda=900.0, epochs=2, steps_per_epoch=4)
    ldc.load_or_train(long, verbose=False, snapshots=[short])
    stored = ldc.load_or_train(short, verbose=False)
    assert stored.cache == "hit" and len(stored.history) == 1
    direct = ldc.load_or_train(short, use_cache=False, verbose=False)
    assert direct.fingerprint == stored.fingerprint
    assert direct.history[0]["test_rate"] == stored.history[0]["test_rate"]
    with pytest.raises(ValueError, match="fewer epochs"):
        ldc.load_or_train(short, snapshots=[long])


@pytest.mark.integration
def test_prepare_trains_what_is_missing_two_at_a_time_and_then_finds_it(monkeypatch):
    monkeypatch.setenv("LDC_QUICK", "1")
    configs = [ldc.TrainConfig(lmbda=500.0, epochs=1, steps_per_epoch=3),
               ldc.TrainConfig(lmbda=700.0, epochs=1, steps_per_epoch=3)]
    lines = []
    first = experiments.prepare(configs, jobs=2, log=lines.append)
    assert (first.found, first.trained) == (0, 2)
    assert lines[0].startswith("models: 2 needed, 0 in the cache") and "(2 at a time)" in lines[0]
    assert sorted(line.split(" trained ")[0] for line in lines[1:]) == ["[1/2]", "[2/2]"]
    again = experiments.prepare(configs, jobs=2, log=lines.append)
    assert (again.found, again.trained) == (2, 0)
    assert ldc.load_or_train(configs[0]).cache == "hit"
    # A missing shorter model is stored by the longer run that passes through it.
    lines.clear()
    shorter = ldc.TrainConfig(lmbda=1100.0, epochs=1, steps_per_epoch=3)
    longer = ldc.TrainConfig(lmbda=1100.0, epochs=2, steps_per_epoch=3)
    assert experiments.prepare([longer, shorter], jobs=2, log=lines.append).trained == 2
    assert "its first 1 epochs" in lines[1] and lines[2].startswith("[2/2] trained λ=1100, 50 latents, conv, 2")
    assert ldc.load_or_train(shorter).cache == "hit"
