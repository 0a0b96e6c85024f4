"""Loading signing keys from the environment or an encrypted keystore, without ever echoing them."""

from __future__ import annotations

import json
import os
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from fedchain.chain.errors import KeyLoadError

DEFAULT_KEY_ENV = "FEDCHAIN_PRIVATE_KEY"
DEFAULT_PASSWORD_ENV = "FEDCHAIN_KEYSTORE_PASSWORD"


def account_from_env(variable: str = DEFAULT_KEY_ENV) -> LocalAccount:
    """The account whose hex private key is in environment variable `variable`."""
    secret = os.environ.get(variable)
    if not secret:
        raise KeyLoadError(f"environment variable {variable} is not set (it should hold a hex private key)")
    return account_from_hex(secret, source=f"environment variable {variable}")


def account_from_hex(secret: str, source: str) -> LocalAccount:
    """Parse a hex private key; errors name `source`, never the key."""
    text = secret.strip().removeprefix("0x")
    if len(text) != 64:
        raise KeyLoadError(f"{source} does not hold a private key: expected 64 hex digits, got {len(text)} chars")
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise KeyLoadError(f"{source} does not hold a private key: it is not hexadecimal") from None
    try:
        account: LocalAccount = Account.from_key(key)
    except (ValueError, TypeError):
        raise KeyLoadError(f"{source} does not hold a valid secp256k1 private key") from None
    return account


def account_from_keystore(path: Path, password: str | None = None,
                          password_env: str = DEFAULT_PASSWORD_ENV) -> LocalAccount:
    """Decrypt a Web3 Secret Storage (keystore v3) file; the password comes from `password_env` if absent."""
    if password is None:
        password = os.environ.get(password_env)
        if password is None:
            raise KeyLoadError(f"keystore {path} needs a password: set {password_env}")
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError:
        raise KeyLoadError(f"keystore file {path} does not exist") from None
    except (OSError, ValueError) as error:
        raise KeyLoadError(f"keystore file {path} is not a readable JSON keystore ({error})") from None
    try:
        key = Account.decrypt(document, password)
    except ValueError:
        raise KeyLoadError(f"wrong password for keystore {path} (or the file is corrupt)") from None
    except (KeyError, TypeError):
        raise KeyLoadError(f"keystore file {path} is not a valid keystore v3 document") from None
    account: LocalAccount = Account.from_key(key)
    return account


def create_keystore(path: Path, password: str) -> str:
    """Create a new random account, encrypt it to `path` (mode 0600, never overwritten); return its address."""
    if not password:
        raise KeyLoadError("refusing to create a keystore with an empty password")
    account: LocalAccount = Account.create()
    document = Account.encrypt(account.key, password)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyLoadError(f"keystore file {path} already exists; not overwriting it") from None
    with os.fdopen(descriptor, "w") as handle:
        json.dump(document, handle)
    return str(account.address)
