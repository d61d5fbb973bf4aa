"""The standalone cluster's secret (no Java here: the file, the spark-submit line and what is printed of it);
tests/integration/test_cluster.py runs the cluster with it and checks that a client without it is refused."""

from __future__ import annotations

import os
import re
import stat

import pytest

from cc_sieve.jobs.cluster import submit
from cc_sieve.jobs.cluster.standalone import ClusterLayout, check_auth_file, ensure_auth_file
from cc_sieve.jobs.config.spark_conf import read_spark_conf
from cc_sieve.jobs.errors import ConfigError


@pytest.fixture
def layout(tmp_path):
    return ClusterLayout(home=tmp_path / "cluster")


def secret_of(layout: ClusterLayout) -> str:
    return read_spark_conf(layout.auth_file)["spark.authenticate.secret"]


def test_the_secret_is_generated_once_readable_by_its_owner_only(layout):
    path = ensure_auth_file(layout)
    settings = read_spark_conf(path)
    assert settings["spark.authenticate"] == "true" and settings["spark.master.rest.enabled"] == "false"
    assert settings["spark.ui.killEnabled"] == "false"
    assert re.fullmatch("[0-9a-f]{64}", secret_of(layout))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(layout.home).st_mode) == 0o700
    first = secret_of(layout)
    ensure_auth_file(layout)  # `up` again: the running daemons keep their secret
    assert secret_of(layout) == first
    other = ClusterLayout(home=layout.home.parent / "other")
    ensure_auth_file(other)
    assert secret_of(other) != first


def test_a_secret_others_could_read_is_refused(layout):
    path = ensure_auth_file(layout)
    os.chmod(path, 0o644)
    with pytest.raises(ConfigError, match=r"readable by others \(mode 644\), so its secret is spent"):
        ensure_auth_file(layout)


def test_a_link_in_place_of_the_secret_file_is_refused_and_not_followed(layout, tmp_path):
    target = tmp_path / "elsewhere.conf"
    target.write_text("spark.authenticate false\n")
    layout.home.mkdir()
    layout.auth_file.symlink_to(target)
    with pytest.raises(ConfigError, match="not a regular file of this user"):
        ensure_auth_file(layout)
    assert target.read_text() == "spark.authenticate false\n"


def test_spark_submit_gets_the_secret_as_a_properties_file_never_on_its_command_line(layout, tmp_path):
    path = ensure_auth_file(layout)
    command = submit.submit_command("spark://127.0.0.1:7077", "benchmark", ["--recipes", "raw"], "/usr/bin/python3",
                                    auth_file=path)
    assert command[command.index("--properties-file") + 1] == str(path)
    assert not any(secret_of(layout) in argument for argument in command)
    with pytest.raises(ConfigError, match="no such file"):
        submit.submit_command("spark://127.0.0.1:7077", "benchmark", [], "/usr/bin/python3",
                              auth_file=tmp_path / "missing.conf")


def test_only_the_local_cluster_gets_its_secret_by_default():
    assert submit.default_auth_file("spark://203.0.113.9:7077") is None
    assert submit.default_auth_file("yarn") is None


def test_the_printed_command_masks_secrets_and_redacts_uris():
    shown = submit.shown_command([
        "spark-submit", "--conf", "spark.authenticate.secret=s3cr3t", "--conf", "spark.hadoop.fs.s3a.access.key=AKIAX",
        "--conf", "spark.executorEnv.PYSPARK_PYTHON=/opt/env/bin/python", "--tracking-uri",
        "http://alice:hunter2@mlflow:5000", "--input=https://host/x.warc.gz?X-Amz-Signature=sig0",
        "--master", "spark://127.0.0.1:7077", "--note", "\x1b]0;owned\x07"])
    assert shown == ("spark-submit --conf spark.authenticate.secret=*********(redacted) --conf "
                     "spark.hadoop.fs.s3a.access.key=*********(redacted) --conf "
                     "spark.executorEnv.PYSPARK_PYTHON=/opt/env/bin/python --tracking-uri http://mlflow:5000 "
                     "--input=https://host/x.warc.gz --master spark://127.0.0.1:7077 --note \\x1b]0;owned\\x07")


def test_submit_dry_run_prints_no_secret(layout, capsys):
    path = ensure_auth_file(layout)
    assert submit.main(["--master", "spark://127.0.0.1:7077", "--auth-file", str(path), "--conf",
                        "spark.authenticate.secret=typed-by-hand", "--dry-run", "benchmark", "--",
                        "--tracking-uri", "http://alice:hunter2@mlflow:5000"]) == 0
    printed = capsys.readouterr().out
    assert f"--properties-file {path}" in printed and "--tracking-uri http://mlflow:5000" in printed
    assert secret_of(layout) not in printed and "typed-by-hand" not in printed and "hunter2" not in printed


def test_check_auth_file_names_a_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="no such file; `cc-sieve cluster up` makes it"):
        check_auth_file(tmp_path / "spark-auth.conf")
