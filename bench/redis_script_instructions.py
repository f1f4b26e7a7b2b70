"""Instructions redis-server executes per `EVALSHA` of the limiter's script, before and after a
change (callgrind: a count that does not depend on the machine's load).

    uv run python bench/redis_script_instructions.py --before ../before/src

Each script runs in a redis-server of its own under `valgrind --tool=callgrind`, once with N and
once with 3N calls of the bench plan (rate, quota and bandwidth, none biting, bytes sent every
time), one call at a time as the gateway sends them under load; the difference divided by 2N is
the cost of one call, start-up and shutdown cancelled out. User-space instructions only (the
socket system calls are the kernel's). "Before" is a script with ten decimal ARGV (26c2d5b and
earlier), "after" this checkout's (one ARGV of packed integers).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from termgate.gateway.traffic.redis_limiter import SCRIPT, script_call
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


async def drive(port: int, script: str, calls: int) -> None:
    wire = RedisWire(f"redis://127.0.0.1:{port}/0", timeout=60)
    sha = await wire.call(encode(b"SCRIPT", b"LOAD", script.encode()))
    assert isinstance(sha, bytes)
    if "struct.unpack" in script:
        command = script_call(bulk(b"EVALSHA") + bulk(sha), KEYS, AFTER)
    else:
        command = decimal_call(sha)
    answer = await wire.call(command)
    assert isinstance(answer, list), answer
    assert answer[0] == 0, answer
    for _ in range(calls - 1):
        await wire.call(command)
    await wire.aclose()


def instructions(script: str, calls: int, scratch: Path) -> int:
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
        asyncio.run(drive(port, script, calls))
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
    options = parser.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed")
    before = options.before / "termgate" / "gateway" / "traffic" / "redis_limiter.lua"
    with tempfile.TemporaryDirectory() as directory:
        scratch = Path(directory)
        for name, script in (("before", before.read_text()), ("after", SCRIPT)):
            few = instructions(script, options.calls, scratch)
            many = instructions(script, 3 * options.calls, scratch)
            per_call = (many - few) / (2 * options.calls)
            print(f"{name:<7} {per_call:>10,.0f} instructions per EVALSHA", flush=True)


if __name__ == "__main__":
    main()
