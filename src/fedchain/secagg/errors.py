"""Errors raised by the secure-aggregation core (docs/protocol.md §10)."""

from fedchain.errors import FedchainError


class SecAggError(FedchainError, ValueError):
    """Input to the secure-aggregation core breaks a rule of docs/protocol.md §10."""


class SecureParamsError(SecAggError):
    """A secure-mode task parameter is out of range, or the masking ring could wrap (§10.1)."""


class CurveError(SecAggError):
    """A key is malformed: a BN254 point off the curve or at infinity, a scalar outside [1, r), or an X25519 key
    of the wrong length or of low order (§10.2)."""


class ShareError(SecAggError):
    """A share bundle, an encrypted share or an unmask bundle is malformed or does not decrypt (§10.6)."""


class RoundFailedError(SecAggError):
    """The round cannot be unmasked: too few survivors or too few shares for some secret (§10.7)."""


class TranscriptError(SecAggError):
    """A revealed secret does not match its owner's commitment, or a transcript is malformed (§10.8)."""
