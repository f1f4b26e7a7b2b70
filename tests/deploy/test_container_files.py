"""The Dockerfile, deploy/compose.yaml and deploy/nginx.conf, checked without pulling an image:
the image runs `termgate serve` as a non-root user from a pinned slim base with no secret in it;
compose's settings are termgate's own, its secrets come from files, its nginx sends to exactly the
node services and is the proxy the nodes trust; nginx accepts the configuration (`nginx -t`)."""

from __future__ import annotations

import ipaddress
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from termgate.secret_settings import FILE_FIELDS, url_password
from termgate.settings import Settings, proxy_networks
from tests.deploy.dockerfile import Dockerfile, read_dockerfile

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
NGINX = "/usr/sbin/nginx"
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|_KEY\b|_KEY_", re.I)


@pytest.fixture(scope="module")
def dockerfile() -> Dockerfile:
    return read_dockerfile(ROOT / "Dockerfile")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose["services"]
    return found


def nodes(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The termgate services that serve: built from this repository, running the image's CMD."""
    return {
        name: service
        for name, service in services(compose).items()
        if "build" in service and "command" not in service
    }


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.partition("=")[::2] for item in env)
    return {str(name): str(value) for name, value in env.items()}


def upstream_servers(conf: str) -> list[str]:
    block = re.search(r"upstream\s+termgate\s*\{(.*?)\}", conf, re.S)
    assert block, "nginx.conf has no `upstream termgate` block"
    return re.findall(r"^\s*server\s+(\S+?)[\s;]", block.group(1), re.M)


# The image -----------------------------------------------------------------------------------


def test_image_builds_in_stages_from_a_pinned_slim_debian_python(dockerfile: Dockerfile) -> None:
    assert len(dockerfile.stages) >= 2
    runtime = dockerfile.stages[-1]
    base = dockerfile.base_of(runtime)
    assert re.fullmatch(r"python:3\.11(\.\d+)?-slim-bookworm(@sha256:[0-9a-f]{64})?", base), base
    uv_image = dockerfile.arguments["UV_IMAGE"]
    assert re.fullmatch(r"ghcr\.io/astral-sh/uv:\d+\.\d+\.\d+(@sha256:[0-9a-f]{64})?", uv_image)
    runs = " ".join(item.arguments for stage in dockerfile.stages for item in stage.all("RUN"))
    assert "uv sync --frozen --no-dev" in runs
    assert not runtime.all("RUN") or "uv " not in " ".join(i.arguments for i in runtime.all("RUN"))


def test_image_runs_termgate_serve_as_a_user_that_is_not_root(dockerfile: Dockerfile) -> None:
    runtime = dockerfile.stages[-1]
    users = runtime.all("USER")
    assert users, "the runtime stage sets no USER: it would run as root"
    user, _, group = users[-1].arguments.partition(":")
    assert user not in ("root", "0")
    # Numeric (hadolint DL3066): Kubernetes' runAsNonRoot cannot check a user name.
    assert user.isdigit(), user
    assert group.isdigit(), group
    assert f"--uid {user}" in " ".join(item.arguments for item in runtime.all("RUN"))
    keywords = [item.keyword for item in runtime.instructions]
    assert keywords.index("USER") < keywords.index("ENTRYPOINT")
    assert "RUN" not in keywords[keywords.index("USER") :]
    assert runtime.all("ENTRYPOINT")[-1].exec_form() == ["termgate"]
    assert runtime.all("CMD")[-1].exec_form() == ["serve"]


def test_image_healthcheck_asks_healthz(dockerfile: Dockerfile) -> None:
    check = dockerfile.stages[-1].all("HEALTHCHECK")[-1].arguments
    script = re.search(r"(/app/\S+\.py)", check)
    assert script, check
    copied = " ".join(item.arguments for item in dockerfile.stages[-1].all("COPY"))
    source = script.group(1).removeprefix("/app/")
    assert f"{source} {script.group(1)}" in copied
    assert "/healthz" in (ROOT / source).read_text()


def test_image_holds_no_secret(dockerfile: Dockerfile) -> None:
    for stage in dockerfile.stages:
        for item in stage.all("ENV") + stage.all("ARG"):
            names = re.findall(r"(\w+)=", item.arguments) or [item.arguments.split("=")[0]]
            assert not [name for name in names if SECRET_NAME.search(name)], item
        for item in stage.all("COPY") + stage.all("ADD"):
            assert not re.search(r"\b(var|secrets|\.env)\b", item.arguments), item
    ignored = (ROOT / ".dockerignore").read_text().split()
    for path in (".git", ".venv", "var", "deploy/secrets", "deploy/tls"):
        assert path in ignored, f".dockerignore does not keep {path} out of the build context"


def test_image_copies_only_what_exists_and_is_not_ignored(dockerfile: Dockerfile) -> None:
    ignored = {
        line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines() if line.strip()
    }
    for stage in dockerfile.stages:
        for item in stage.all("COPY"):
            if item.arguments.startswith("--from="):
                continue
            *sources, _target = item.arguments.split()
            for source in sources:
                assert (ROOT / source).exists(), source
                assert source not in ignored, f"{source} is copied but .dockerignore drops it"


# Compose ---------------------------------------------------------------------------------------


def test_compose_runs_postgres_redis_a_migration_two_nodes_and_nginx(
    compose: dict[str, Any],
) -> None:
    found = services(compose)
    assert {"postgres", "redis", "migrate", "nginx"} <= set(found)
    assert len(nodes(compose)) >= 2
    assert found["migrate"]["command"] == ["db", "upgrade"]
    for name, node in nodes(compose).items():
        needs = node["depends_on"]
        assert needs["migrate"]["condition"] == "service_completed_successfully", name
        env = environment(node)
        assert env["TERMGATE_LIMITER_BACKEND"] == "redis", name
        assert env["TERMGATE_HOST"] == "0.0.0.0", name


def test_every_termgate_variable_in_compose_is_a_setting(compose: dict[str, Any]) -> None:
    known = set(Settings.model_fields)
    for name, service in services(compose).items():
        for variable in environment(service):
            if not variable.startswith("TERMGATE_"):
                continue
            setting = variable.removeprefix("TERMGATE_").lower()
            if setting.endswith("_file"):
                assert setting.removesuffix("_file") in FILE_FIELDS, f"{name}: {variable}"
            else:
                assert setting in known, f"{name}: {variable} is not a termgate setting"


def test_compose_holds_no_plaintext_secret(compose: dict[str, Any]) -> None:
    declared = compose["secrets"]
    for spec in declared.values():
        assert set(spec) == {"file"}
        assert spec["file"].startswith("./secrets/")
    for name, service in services(compose).items():
        given = set(service.get("secrets", []))
        for variable, value in environment(service).items():
            if variable.endswith("_FILE"):
                secret = value.removeprefix("/run/secrets/")
                assert value.startswith("/run/secrets/"), f"{name}: {variable}"
                assert secret in given, f"{name}: {variable}"
                assert secret in declared, f"{name}: {variable}"
                continue
            assert not SECRET_NAME.search(variable), f"{name}: {variable} holds a secret as text"
            if "://" in value:
                assert url_password(value) is None, f"{name}: {variable} has a password"
        command = " ".join(map(str, service.get("command", [])))
        assert "pass" not in command.lower(), f"{name}: a password on the command line"
    ignored = (ROOT / ".gitignore").read_text().split()
    assert "deploy/secrets/" in ignored


def test_nginx_sends_to_exactly_the_node_services(compose: dict[str, Any]) -> None:
    servers = upstream_servers((DEPLOY / "nginx.conf").read_text())
    expected = {
        f"{name}:{environment(node)['TERMGATE_PORT']}" for name, node in nodes(compose).items()
    }
    assert sorted(servers) == sorted(expected)


def test_the_nodes_trust_nginx_and_only_nginx(compose: dict[str, Any]) -> None:
    proxy = services(compose)["nginx"]
    for name, node in nodes(compose).items():
        trusted = proxy_networks(environment(node)["TERMGATE_TRUSTED_PROXIES"])
        shared = set(node["networks"]) & set(proxy["networks"])
        assert shared, f"nginx cannot reach {name}"
        for network in shared:
            address = ipaddress.ip_address(proxy["networks"][network]["ipv4_address"])
            assert any(address in net for net in trusted), f"{name} does not trust nginx"
            assert all(net.num_addresses == 1 for net in trusted), "trust a host, not a network"


def test_nginx_overwrites_the_forwarded_headers_termgate_reads() -> None:
    conf = (DEPLOY / "nginx.conf").read_text()
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in conf
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in conf
    assert "proxy_set_header X-Forwarded-Host $host;" in conf
    assert 'proxy_set_header Forwarded "";' in conf


def _nginx_version() -> tuple[int, ...]:
    answer = subprocess.run([NGINX, "-v"], capture_output=True, text=True, check=True)
    found = re.search(r"nginx/(\d+)\.(\d+)\.(\d+)", answer.stderr)
    assert found, answer.stderr
    return tuple(int(part) for part in found.groups())


@pytest.mark.skipif(not Path(NGINX).exists(), reason=f"no nginx at {NGINX}")
def test_nginx_accepts_the_configuration(tmp_path: Path) -> None:
    """`nginx -t` with the node names (resolved only inside compose) set to the loopback and a
    certificate made here."""
    if not shutil.which("openssl"):
        pytest.skip("no openssl to make a test certificate")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
         "/CN=api.provider.test", "-keyout", str(tmp_path / "server.key"),
         "-out", str(tmp_path / "server.crt")],
        check=True, capture_output=True,
    )  # fmt: skip
    conf = (DEPLOY / "nginx.conf").read_text()
    for server in upstream_servers(conf):
        conf = conf.replace(f"server {server}", f"server 127.0.0.1:{server.rpartition(':')[2]}")
    conf = conf.replace("/etc/nginx/tls/", f"{tmp_path}/")
    if _nginx_version() < (1, 25, 1):  # `http2 on;` is newer; the image's nginx has it
        conf = conf.replace("http2 on;", "").replace("listen 443 ssl;", "listen 443 ssl http2;")
    (tmp_path / "nginx.conf").write_text(conf)

    checked = subprocess.run(
        [NGINX, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"),
         "-e", str(tmp_path / "error.log"), "-g", f"pid {tmp_path}/nginx.pid;"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip

    assert checked.returncode == 0, checked.stderr
    assert "syntax is ok" in checked.stderr


def test_no_container_can_be_given_nginx_address_first(compose: dict[str, Any]) -> None:
    """Docker hands out addresses in order; one handed to a node before nginx starts would stop
    nginx, so the fixed address lies outside the range handed out."""
    proxy = services(compose)["nginx"]
    for network, spec in proxy["networks"].items():
        address = ipaddress.ip_address(spec["ipv4_address"])
        for pool in compose["networks"][network]["ipam"]["config"]:
            assert address in ipaddress.ip_network(pool["subnet"])
            assert address not in ipaddress.ip_network(pool["ip_range"])
