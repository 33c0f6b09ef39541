"""Settings: defaults from config/default.toml, environment overrides, clear errors on bad values."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.settings import SettingsError, load_settings


def test_defaults_use_embedded_sqlite_in_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("LIANSHEN_DATABASE_URL", raising=False)
    settings = load_settings(data_dir=tmp_path)
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path.resolve()}/lianshen.db"
    limits = settings.centre.promised_limits
    assert (limits.approval, limits.ratification, limits.filing) == (37, 36, 34)


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LIANSHEN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LIANSHEN_DATABASE_URL", "postgresql+asyncpg://u@127.0.0.1:5432/x")
    monkeypatch.setenv("LIANSHEN_RECORDING_AUTO_START", "1")
    monkeypatch.setenv("LIANSHEN_SFU_ICE_GATHER_ADDRESSES", '["127.0.0.1"]')
    settings = load_settings()
    assert settings.data_dir == tmp_path
    assert settings.database_url == "postgresql+asyncpg://u@127.0.0.1:5432/x"
    assert settings.recording.auto_start is True
    assert settings.sfu.ice_gather_addresses == ["127.0.0.1"]


@pytest.mark.parametrize(
    ("variable", "value", "key"),
    [
        ("LIANSHEN_SERVER_PORT", "eighty", "server.port"),
        ("LIANSHEN_DATABASE_URL", "mysql://root@localhost/x", "database.url"),
        ("LIANSHEN_SFU_DENIED_NETWORKS", '["10.0.0.0/33"]', "sfu.denied_networks"),
        ("LIANSHEN_CENTRE_ABSENT_POLICY", "whatever", "centre.absent_policy"),
        ("LIANSHEN_AUTH_SECURE_COOKIES", "sometimes", "auth.secure_cookies"),
    ],
)
def test_bad_value_names_the_key(monkeypatch: pytest.MonkeyPatch, variable: str, value: str, key: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as error:
        load_settings()
    assert key in str(error.value)


def test_operator_file_must_exist(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LIANSHEN_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(SettingsError, match="no such file"):
        load_settings()


def test_operator_file_overrides_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    extra = tmp_path / "site.toml"
    extra.write_text('[centre]\nname = "临沧市政务服务中心"\ndivision = "530900"\n', encoding="utf-8")
    monkeypatch.setenv("LIANSHEN_CONFIG", str(extra))
    settings = load_settings()
    assert settings.centre.name == "临沧市政务服务中心"
    assert settings.centre.minutes_prefix == "凤联审纪"  # untouched keys keep their defaults
