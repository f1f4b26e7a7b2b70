"""The upstream's header lines as the gateway relays them (`UpstreamConnection.relayed`: bytes,
each line opening with its line break), read back into (name, value) pairs for assertions."""

from __future__ import annotations

from collections.abc import Sequence


def relayed_fields(head: Sequence[bytes]) -> list[tuple[str, str]]:
    fields = []
    for line in head:
        assert line.startswith(b"\r\n"), line
        name, separator, value = line[2:].partition(b": ")
        assert separator, line
        fields.append((name.decode("latin-1"), value.decode("latin-1")))
    return fields
