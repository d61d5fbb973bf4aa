"""Input specs: local paths, globs, folders, manifests with a base, seeded sample and limit."""

from __future__ import annotations

import gzip

import pytest

from cc_sieve.jobs.config.loading import validate_flags
from cc_sieve.jobs.config.presets import InputConfig
from cc_sieve.jobs.errors import ConfigError, InputError
from cc_sieve.jobs.reading.inputs import CC_HTTPS_BASE, resolve_inputs
from tests.support.samples import CC_SAMPLES, WARC_2020_34


def test_folder_expands_to_its_files_in_order():
    uris = resolve_inputs(InputConfig(specs=[str(CC_SAMPLES)]))
    names = [u.rsplit("/", 1)[-1] for u in uris]
    assert names == ["dolma-CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz", "jwarc-cc.warc.gz",
                     "resiliparse-warcfile.warc.gz", "whirlwind.warc.gz", "whirlwind.warc.wat.gz",
                     "whirlwind.warc.wet.gz"]


def test_glob_and_repeated_specs_do_not_repeat_shards():
    uris = resolve_inputs(InputConfig(specs=[str(CC_SAMPLES / "*" / "*.warc.gz"), str(WARC_2020_34)]))
    assert len(uris) == 3 and uris.count(str(WARC_2020_34)) == 1


def test_glob_matching_nothing_is_a_one_line_error():
    with pytest.raises(InputError, match="matched no files"):
        resolve_inputs(InputConfig(specs=[str(CC_SAMPLES / "*.nothing")]))


def test_missing_plain_path_is_kept_so_the_read_records_it(tmp_path):
    assert resolve_inputs(InputConfig(specs=[str(tmp_path / "missing.warc.gz")])) == [str(tmp_path / "missing.warc.gz")]


def test_manifest_entries_resolve_against_the_base(tmp_path):
    manifest = tmp_path / "warc.paths.gz"
    entries = [f"crawl-data/CC-MAIN-2099-01/segments/1/warc/shard-{i:05d}.warc.gz" for i in range(10)]
    manifest.write_bytes(gzip.compress(("\n".join(entries) + "\n").encode(), mtime=0))
    uris = resolve_inputs(InputConfig(specs=[str(manifest)], manifest_base=CC_HTTPS_BASE))
    assert uris[0] == "https://data.commoncrawl.org/crawl-data/CC-MAIN-2099-01/segments/1/warc/shard-00000.warc.gz"
    local = resolve_inputs(InputConfig(specs=[str(manifest)], manifest_base=str(tmp_path), limit=3))
    assert local == [str(tmp_path / e) for e in entries[:3]]
    s3 = resolve_inputs(InputConfig(specs=[str(manifest)], limit=1))
    assert s3 == ["s3://commoncrawl/" + entries[0]]


def test_sample_is_seeded_and_limit_applies_after_it(tmp_path):
    manifest = tmp_path / "wet.paths"
    manifest.write_text("\n".join(f"a/{i}.warc.wet.gz" for i in range(100)))
    first = resolve_inputs(InputConfig(specs=[str(manifest)], sample=0.1, seed=7))
    again = resolve_inputs(InputConfig(specs=[str(manifest)], sample=0.1, seed=7))
    other = resolve_inputs(InputConfig(specs=[str(manifest)], sample=0.1, seed=8))
    assert first == again and len(first) == 10 and first != other
    assert resolve_inputs(InputConfig(specs=[str(manifest)], sample=0.1, seed=7, limit=4)) == first[:4]
    with pytest.raises(ConfigError, match="--sample: Input should be less than or equal to 1"):
        validate_flags(InputConfig, {"specs": [str(manifest)], "sample": 1.5})
