"""Keys from the environment and from keystores: loaded correctly, never echoed."""

from __future__ import annotations

from pathlib import Path

import pytest

from fedchain.chain import KeyLoadError
from fedchain.chain.keys import account_from_env, account_from_keystore, create_keystore

SECRET = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"


def test_key_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOME_KEY", "0x" + SECRET)
    assert account_from_env("SOME_KEY").address == "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23"


@pytest.mark.parametrize("value", ["", "0x1234", "zz" * 32, "00" * 32])
def test_bad_keys_are_named_but_not_shown(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("SOME_KEY", value)
    with pytest.raises(KeyLoadError, match="SOME_KEY") as caught:
        account_from_env("SOME_KEY")
    if value:
        assert value.removeprefix("0x") not in str(caught.value)


def test_keystore_round_trip_and_wrong_password(tmp_path: Path) -> None:
    path = tmp_path / "operator.json"
    address = create_keystore(path, "correct horse")
    assert path.stat().st_mode & 0o777 == 0o600
    assert account_from_keystore(path, "correct horse").address == address
    with pytest.raises(KeyLoadError, match="wrong password"):
        account_from_keystore(path, "battery staple")
    with pytest.raises(KeyLoadError, match="already exists"):
        create_keystore(path, "again")


def test_keystore_password_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "k.json"
    address = create_keystore(path, "pw")
    monkeypatch.setenv("FEDCHAIN_KEYSTORE_PASSWORD", "pw")
    assert account_from_keystore(path).address == address
    monkeypatch.delenv("FEDCHAIN_KEYSTORE_PASSWORD")
    with pytest.raises(KeyLoadError, match="FEDCHAIN_KEYSTORE_PASSWORD"):
        account_from_keystore(path)


def test_missing_and_malformed_keystores(tmp_path: Path) -> None:
    with pytest.raises(KeyLoadError, match="does not exist"):
        account_from_keystore(tmp_path / "absent.json", "pw")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(KeyLoadError, match="not a readable JSON keystore"):
        account_from_keystore(broken, "pw")
