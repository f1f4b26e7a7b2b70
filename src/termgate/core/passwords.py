"""Passwords: argon2id hashes (argon2-cffi's defaults), a minimum length, nothing else stored.

Hashing and verifying take ~200 ms of CPU (on several threads: argon2's lanes). Callers on the
event loop use `hash_off_loop` and `verify_off_loop`: the work runs in a small pool of worker
threads (argon2-cffi releases the GIL) at a lower scheduling priority, so the gateway on the
same loop keeps its CPU and keeps answering during a storm of sign-ins; sign-ins queue instead.
An unknown account (no stored hash) is verified against a dummy hash, so its answer takes as
long as a known one's.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from termgate.core.errors import RegistryError

MIN_LENGTH = 10
MAX_LENGTH = 1024
HASHING_THREADS = 2
HASHING_NICENESS = 10  # below the event loop's threads (0): the gateway comes first
_hasher = PasswordHasher()


def _lower_priority() -> None:
    """Linux schedules threads one by one; argon2's lane threads inherit this niceness."""
    # Elsewhere (no per-thread priority): the same priority, still off the loop.
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASHING_NICENESS)


_pool = ThreadPoolExecutor(HASHING_THREADS, "argon2", initializer=_lower_priority)


# The demo's passwords, published in this project's docs and code (termgate.cli.demo_seed; a test
# keeps the two in step): never good enough for an account outside the demo.
PUBLISHED = frozenset({"console-demo-2026", "portal-demo-2026", "payroll-demo-2026"})
LEAST_DISTINCT = 5


def weakness(password: str, email: str, subject: str = "the password") -> str | None:
    """Why `password` may not guard the account `email`, or None."""
    if not password.strip():
        return f"{subject} is empty"
    if len(password) < MIN_LENGTH:
        return f"{subject} needs at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"{subject} may have at most {MAX_LENGTH} characters"
    if password in PUBLISHED:
        return "that password is published (termgate's demo uses it); choose another"
    if len(set(password)) < LEAST_DISTINCT or (email and email.lower() in password.lower()):
        return "that password is too easy to guess; choose a longer, less regular one"
    return None


def check_strength(password: str, email: str) -> None:
    """For a password someone chooses (sign-up, reset, a new administrator)."""
    if problem := weakness(password, email):
        raise RegistryError(problem)


def check_length(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise RegistryError(f"a password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise RegistryError(f"a password may have at most {MAX_LENGTH} characters")


def hash_password(password: str) -> str:
    check_length(password)
    return _hasher.hash(password)


@cache
def _dummy_hash() -> str:
    return _hasher.hash("no account has this password")


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True only for the right password; without a stored hash a dummy one takes the time."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _hasher.verify(stored_hash or _dummy_hash(), password) and bool(stored_hash)
    except (VerificationError, InvalidHashError):
        return False


async def hash_off_loop(password: str) -> str:
    check_length(password)  # refused at once, not in a thread
    return await asyncio.get_running_loop().run_in_executor(_pool, _hasher.hash, password)


async def verify_off_loop(stored_hash: str | None, password: str) -> bool:
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_pool, verify_password, stored_hash, password)
