"""Input specs: local paths, globs, folders, manifests with a base, seeded sample and limit."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest

from cc_sieve.jobs.config.loading import validate_flags
from cc_sieve.jobs.config.presets import CC_HTTPS_BASE, CC_S3_BASE, InputConfig
from cc_sieve.jobs.errors import ConfigError, InputError
from cc_sieve.jobs.reading.inputs import default_manifest_base, resolve_inputs
from cc_sieve.jobs.redact import redact_uri
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


def test_a_manifest_fetched_from_common_crawl_over_https_reads_its_shards_over_https():
    assert default_manifest_base(CC_HTTPS_BASE + "crawl-data/CC-MAIN-2024-10/warc.paths.gz") == CC_HTTPS_BASE
    assert default_manifest_base("s3://commoncrawl/crawl-data/CC-MAIN-2024-10/warc.paths.gz") == CC_S3_BASE
    assert default_manifest_base("https://example.org/warc.paths.gz") == CC_S3_BASE


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


def test_an_existing_file_with_glob_characters_in_its_name_is_read_literally(tmp_path):
    """`odd[1].warc.gz` was refused as "pattern matched no files"."""
    odd = tmp_path / "odd[1].warc.gz"
    odd.write_bytes(WARC_2020_34.read_bytes())
    assert resolve_inputs(InputConfig(specs=[str(odd)])) == [str(odd)]


def test_double_star_does_not_follow_symlinked_folders_back_up_the_tree(tmp_path):
    """One link back to itself listed the same file 41 times; two links hung the driver."""
    (tmp_path / "crawl" / "seg").mkdir(parents=True)
    shard = tmp_path / "crawl" / "seg" / "a.warc.gz"
    shard.write_bytes(WARC_2020_34.read_bytes())
    (tmp_path / "crawl" / "seg" / "loop").symlink_to(tmp_path / "crawl")
    (tmp_path / "crawl" / "seg" / "other-loop").symlink_to(tmp_path)
    (tmp_path / "crawl" / "top.warc.gz").write_bytes(WARC_2020_34.read_bytes())
    uris = resolve_inputs(InputConfig(specs=[str(tmp_path / "crawl" / "**" / "*.warc.gz")]))
    assert uris == [str(tmp_path / "crawl" / "seg" / "a.warc.gz"), str(tmp_path / "crawl" / "top.warc.gz")]
    assert resolve_inputs(InputConfig(specs=[str(tmp_path / "**")])) == uris


def test_file_names_that_are_not_utf8_are_kept_as_the_os_gives_them(tmp_path):
    """Such a name (given directly or found in a folder) crashed the driver."""
    name = os.fsdecode(b"caf\xe9-\xff.warc.gz")
    (tmp_path / name).write_bytes(WARC_2020_34.read_bytes())
    for spec in (str(tmp_path / name), str(tmp_path), str(tmp_path / "*.warc.gz")):
        [uri] = resolve_inputs(InputConfig(specs=[spec]))
        assert os.fsencode(uri).endswith(b"caf\xe9-\xff.warc.gz") and Path(uri).is_file()
    assert redact_uri(uri).endswith("caf\\xe9-\\xff.warc.gz")


def manifest_with(tmp_path: Path, *entries: str) -> Path:
    manifest = tmp_path / "warc.paths"
    manifest.write_text("\n".join(entries) + "\n")
    return manifest


@pytest.mark.parametrize("entry", ["../outside.warc.gz", "a/../../outside.warc.gz", "/etc/passwd",
                                   "file:///etc/passwd", "http://127.0.0.1:9/x.warc.gz", "link/x.warc.gz"])
def test_manifest_entries_outside_a_local_base_are_refused(tmp_path, entry):
    """`../x`, absolute paths, file:// and http:// entries were read and fetched."""
    base = tmp_path / "base"
    base.mkdir()
    (base / "link").symlink_to(tmp_path)
    manifest = manifest_with(tmp_path, "inside/ok.warc.gz", entry)
    with pytest.raises(InputError, match=r"line 2: entry .* is outside --manifest-base .*--allow-outside-base"):
        resolve_inputs(InputConfig(specs=[str(manifest)], manifest_base=str(base)))
    allowed = resolve_inputs(InputConfig(specs=[str(manifest)], manifest_base=str(base), allow_outside_base=True))
    assert allowed[0] == str(base / "inside" / "ok.warc.gz") and len(allowed) == 2


@pytest.mark.parametrize("entry", ["../../etc/passwd", "crawl-data/%2e%2e/%2e%2e/x", "crawl-data\\..\\..\\x",
                                   "s3://other-bucket/x.warc.gz", "https://data.commoncrawl.org/x.warc.gz",
                                   "/crawl-data/x.warc.gz"])
def test_manifest_entries_outside_a_remote_base_are_refused(tmp_path, entry):
    manifest = manifest_with(tmp_path, entry)
    with pytest.raises(InputError, match="is outside --manifest-base s3://commoncrawl/crawl-data/"):
        resolve_inputs(InputConfig(specs=[str(manifest)], manifest_base="s3://commoncrawl/crawl-data/"))


def test_absolute_uris_inside_the_base_are_accepted(tmp_path):
    manifest = manifest_with(tmp_path, "s3://commoncrawl/crawl-data/a.warc.gz", "crawl-data/./b/../b.warc.gz")
    assert resolve_inputs(InputConfig(specs=[str(manifest)])) == [
        "s3://commoncrawl/crawl-data/a.warc.gz", "s3://commoncrawl/crawl-data/./b/../b.warc.gz"]


def test_a_manifest_message_never_prints_raw_control_bytes_or_secrets(tmp_path):
    manifest = manifest_with(tmp_path, "../\x1b]0;pwned\x07x")
    with pytest.raises(InputError) as refused:
        resolve_inputs(InputConfig(specs=[str(manifest)], manifest_base=str(tmp_path)))
    assert "\x1b" not in str(refused.value) and "entry '../\\x1b]0;pwned\\x07x'" in str(refused.value)
    manifest = manifest_with(tmp_path, "https://user:pw@host/x?X-Amz-Signature=abc")
    with pytest.raises(InputError) as refused:
        resolve_inputs(InputConfig(specs=[str(manifest)], manifest_base=str(tmp_path)))
    assert "pw" not in str(refused.value) and "Signature" not in str(refused.value)


def test_a_missing_manifest_is_one_line(tmp_path):
    with pytest.raises(InputError, match=r"warc.paths.gz: cannot read the manifest \(no such file"):
        resolve_inputs(InputConfig(specs=[str(tmp_path / "warc.paths.gz")]))
