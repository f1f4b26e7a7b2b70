"""Signing keys sealed at rest (`termgate.db.key_seal`): only the secret key they were sealed
with, on the row they were sealed for, opens them; a refusal never shows the key."""

from __future__ import annotations

import pytest

from termgate.db.key_seal import FORMAT, KeySeal, SealError

SECRET = "unit-secret-key-" + "a" * 32
PRIVATE = '{"kty": "EC", "d": "PRIVATE-SCALAR"}'


def test_sealed_key_opens_with_its_secret_key_and_hides_the_plaintext() -> None:
    seal = KeySeal.from_secret(SECRET)
    sealed = seal.seal("kid-1", PRIVATE)
    assert sealed.startswith(f"{FORMAT}.")
    assert "PRIVATE-SCALAR" not in sealed
    assert seal.open("kid-1", sealed) == PRIVATE
    assert seal.seal("kid-1", PRIVATE) != sealed  # a fresh nonce every time


def test_seal_id_names_the_secret_key_without_revealing_it() -> None:
    one, again, other = (KeySeal.from_secret(s) for s in (SECRET, SECRET, SECRET + "b"))
    assert one.seal_id == again.seal_id != other.seal_id
    assert len(one.seal_id) == 16
    assert SECRET not in repr(one)
    assert "_key" not in repr(one)


def test_another_secret_key_does_not_open_it_and_the_error_shows_nothing_secret() -> None:
    sealed = KeySeal.from_secret(SECRET).seal("kid-1", PRIVATE)
    with pytest.raises(SealError, match="kid-1 does not open with this secret key") as refused:
        KeySeal.from_secret(SECRET + "b").open("kid-1", sealed)
    assert "PRIVATE" not in str(refused.value)
    assert SECRET not in str(refused.value)


def test_a_sealed_key_moved_to_another_row_does_not_open() -> None:
    seal = KeySeal.from_secret(SECRET)
    with pytest.raises(SealError):
        seal.open("kid-2", seal.seal("kid-1", PRIVATE))


@pytest.mark.parametrize(
    "damaged",
    ["", "v1", "v1.", "v2.AAAA", "v1.!!!not-base64!!!", "v1.AAAA", PRIVATE, "v1.\x00\u202e"],
)
def test_damaged_or_plaintext_values_are_refused_not_crashed_on(damaged: str) -> None:
    with pytest.raises(SealError):
        KeySeal.from_secret(SECRET).open("kid-1", damaged)


def test_flipping_one_bit_of_the_sealed_value_is_detected() -> None:
    seal = KeySeal.from_secret(SECRET)
    sealed = seal.seal("kid-1", PRIVATE)
    body = bytearray(sealed.encode())
    body[-5] = ord("A") if body[-5] != ord("A") else ord("B")
    with pytest.raises(SealError):
        seal.open("kid-1", body.decode())


def test_an_empty_secret_key_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        KeySeal.from_secret("")
