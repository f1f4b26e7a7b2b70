"""Instructions redis-server executes per `EVALSHA` of the limiter's script, before and after a
change (callgrind: a count that does not depend on the machine's load).

    uv run python bench/redis_script_instructions.py --before ../before/src

Each script runs in a redis-server of its own under `valgrind --tool=callgrind`, once with N and
once with 3N calls of the bench plan (rate, quota and bandwidth, none biting, bytes sent every
time), one call at a time as the gateway sends them under load; the difference divided by 2N is
the cost of one call, start-up and shutdown cancelled out. User-space instructions only (the
socket system calls are the kernel's). "Before" is a script with ten decimal ARGV (26c2d5b and
earlier), one ARGV of ten packed integers (to e971839), or this checkout's.

    uv run python bench/redis_script_instructions.py --before ../before/src --batch 10
    uv run python bench/redis_script_instructions.py --before ../before/src --batch 10 --apps 10

`--batch N`: N decisions per call for a script that takes several (then the figure is per
decision), of `--apps` applications in turn (1: all of one application, the best case for the
script, which reads and writes each key once a call; N: every decision its own keys).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from termgate.gateway.traffic.redis_limiter import SCRIPT
from termgate.gateway.traffic.redis_wire import RedisWire, bulk, encode

KEYS = ["tg:r:app", "tg:d:dev", "tg:b:app:20261129", "tg:q:app:202611"]
TOLERANCE = 6000 * 10**9
# The bench plan's arguments in the order of this checkout's script, then of the older one.
AFTER = (6000, TOLERANCE, 6000, TOLERANCE, 10**12, 10**15, 172_800, 3_000_000, 4864, -1)
BEFORE = (6000, TOLERANCE, 6000, TOLERANCE, 10**12, 3_000_000, 10**15, 172_800, 4864, -1)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def decimal_call(sha: bytes) -> bytes:
    keys = (key.encode() for key in KEYS)
    return encode(b"EVALSHA", sha, b"%d" % len(KEYS), *keys, *(b"%d" % arg for arg in BEFORE))


def batch_call(sha: bytes, batch: int, apps: int) -> bytes:
    """One call of this checkout's script with `batch` decisions of `apps` applications (each
    application's keys in KEYS once)."""
    keys: list[str] = []
    packed = b""
    for number in range(batch):
        app = number % apps
        if number < apps:
            keys += [
                key.replace(":app", f":app{app}").replace(":dev", f":dev{app}") for key in KEYS
            ]
        packed += struct.pack("<12q", len(KEYS), *AFTER, app * len(KEYS))
    parts = [b"*%d\r\n" % (4 + len(keys)), bulk(b"EVALSHA"), bulk(sha), bulk(b"%d" % len(keys))]
    parts += [bulk(key.encode()) for key in keys]
    parts.append(bulk(packed))
    return b"".join(parts)


async def drive(port: int, script: str, calls: int, batch: int, apps: int) -> None:
    wire = RedisWire(f"redis://127.0.0.1:{port}/0", timeout=60)
    sha = await wire.call(encode(b"SCRIPT", b"LOAD", script.encode()))
    assert isinstance(sha, bytes)
    if "struct.pack" in script:  # several decisions a call, the answer packed
        command = batch_call(sha, batch, apps)
    elif "struct.unpack" in script:
        # One decision, ten packed integers (no key count): encoded as that script expects.
        parts = [b"*%d\r\n" % (4 + len(KEYS)), bulk(b"EVALSHA"), bulk(sha), bulk(b"4")]
        parts += [bulk(key.encode()) for key in KEYS]
        command = b"".join([*parts, bulk(struct.pack("<10q", *AFTER))])
    else:
        command = decimal_call(sha)
    answer = await wire.call(command)
    first = struct.unpack_from("<q", answer) if isinstance(answer, bytes) else answer
    assert isinstance(first, list | tuple), answer
    assert first[0] == 0, answer
    for _ in range(calls - 1):
        await wire.call(command)
    await wire.aclose()


def instructions(script: str, calls: int, scratch: Path, batch: int, apps: int) -> int:
    port = free_port()
    out = scratch / f"callgrind.{port}"
    server = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *server]
    process = subprocess.Popen(
        [*command, "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        asyncio.run(drive(port, script, calls, batch, apps))
    finally:
        process.terminate()
        process.wait(120)
    found = re.search(r"^(?:summary|totals): (\d+)", out.read_text(), re.MULTILINE)
    assert found is not None
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", type=Path, required=True, help="src folder of the 'before'")
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=1, help="decisions per call (this script)")
    parser.add_argument("--apps", type=int, default=1, help="applications in a call")
    options = parser.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed")
    before = options.before / "termgate" / "gateway" / "traffic" / "redis_limiter.lua"
    with tempfile.TemporaryDirectory() as directory:
        scratch = Path(directory)
        for name, script in (("before", before.read_text()), ("after", SCRIPT)):
            batch = options.batch if "struct.pack" in script else 1
            few = instructions(script, options.calls, scratch, batch, options.apps)
            many = instructions(script, 3 * options.calls, scratch, batch, options.apps)
            per_call = (many - few) / (2 * options.calls)
            print(
                f"{name:<7} {per_call:>10,.0f} instructions per EVALSHA, {batch} decisions: "
                f"{per_call / batch:,.0f} per decision",
                flush=True,
            )


if __name__ == "__main__":
    main()
